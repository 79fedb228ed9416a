"""``/sdapi/v1`` generation and job-control routes: txt2img, img2img, progress, interrupt."""
from __future__ import annotations

from typing import Callable

from modules.core.context import AppContext

from .img2img_schemas import Img2ImgBody
from .schemas import Txt2ImgBody, generation_response

Routes = list[tuple[str, str, Callable]]


def generation_routes(ctx: AppContext) -> Routes:
    def txt2img(body: Txt2ImgBody) -> dict:
        return generation_response(ctx.generation.txt2img(body.to_core()), body)

    def img2img(body: Img2ImgBody) -> dict:
        return generation_response(ctx.generation.img2img(body.to_core()), body)

    def progress(skip_current_image: bool = False) -> dict:
        snap = ctx.progress.snapshot()
        return {"progress": snap.progress, "eta_relative": snap.eta_relative,
                "state": {"skipped": False, "interrupted": snap.interrupted, "stopping_generation": False,
                          "job": snap.job, "job_count": snap.job_count, "job_timestamp": snap.job_timestamp,
                          "job_no": snap.job_no, "sampling_step": snap.sampling_step,
                          "sampling_steps": snap.sampling_steps},
                "current_image": None, "textinfo": snap.textinfo}

    def interrupt() -> dict:
        ctx.progress.interrupt()
        return {}

    return [("POST", "/txt2img", txt2img), ("POST", "/img2img", img2img), ("GET", "/progress", progress), ("POST", "/interrupt", interrupt)]
