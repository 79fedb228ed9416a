"""``/sdapi/v1`` generation and job-control routes: txt2img, img2img, progress, interrupt, skip.

Generation requests go into the shared job queue and wait there in FIFO order with the UI's jobs; the
request handler only waits (off the event loop), so ``progress``, ``interrupt`` and ``skip`` answer at once.
A client that disconnects while its job waits or runs cancels it (SillyTavern closes the socket to abort).
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from fastapi import Request

from modules.core.context import AppContext
from modules.core.job_queue import Job
from modules.core.scripts.base import ScriptServices
from modules.core.scripts.registry import args_from_api, find_script, run_script

from .body_checks import check_model_names
from .img2img_schemas import Img2ImgBody
from .schemas import GenerationBody, Txt2ImgBody, encode_png, generation_response
from .script_routes import OUTPAINTING

Routes = list[tuple[str, str, Callable]]


async def wait_for(ctx: AppContext, job: Job, request: Request | None = None) -> Any:
    """The job's result once it is done; cancels the job if the client goes away first. Polls instead of
    blocking a worker thread, so any number of waiting requests costs no threads."""
    polls = 0
    while not job.wait(0):
        await asyncio.sleep(0.05)
        polls += 1
        if request is not None and polls % 4 == 0 and await request.is_disconnected():
            ctx.jobs.cancel(job.id)
    return job.outcome()


def generation_work(ctx: AppContext, kind: str, body: GenerationBody) -> Callable[[Job], Any]:
    """What a queued txt2img/img2img request runs: the generation, or the script ``script_name`` names (the
    img2img outpainting scripts are applied by the body itself). Bad input raises here, before queueing."""
    core = body.for_extensions(ctx.extensions.loaded_names()).to_core()
    check_model_names(ctx, dict(core.override_settings))
    name = (body.script_name or "").strip()
    if not name or (kind == "img2img" and name.lower() in OUTPAINTING):
        generate = ctx.generation.txt2img if kind == "txt2img" else ctx.generation.img2img
        return lambda _job: generate(core)
    script = find_script(name, kind)
    args = args_from_api(script, body.script_args, kind)
    return lambda _job: run_script(ScriptServices.from_context(ctx), script, core, args)


def progress_body(ctx: AppContext, skip_current_image: bool = False) -> dict:
    """A1111's ``/progress`` answer for the running job (idle: progress 0 and job_count 0)."""
    snap = ctx.progress.snapshot()
    image = None if skip_current_image or snap.current_image is None else encode_png(snap.current_image)
    return {"progress": snap.progress, "eta_relative": snap.eta_relative,
            "state": {"skipped": snap.skipped, "interrupted": snap.interrupted, "stopping_generation": False,
                      "job": snap.job, "job_count": snap.job_count, "job_timestamp": snap.job_timestamp,
                      "job_no": snap.job_no, "sampling_step": snap.sampling_step,
                      "sampling_steps": snap.sampling_steps},
            "current_image": image, "textinfo": snap.textinfo or None}


def generation_routes(ctx: AppContext) -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for generation and job control."""

    async def txt2img(body: Txt2ImgBody, request: Request) -> dict:
        """Generate images from a prompt (queued with every other job); ``script_name`` runs a script."""
        job = ctx.jobs.submit("txt2img", generation_work(ctx, "txt2img", body), source="api",
                              after=lambda result: generation_response(result, body))
        return await wait_for(ctx, job, request)

    async def img2img(body: Img2ImgBody, request: Request) -> dict:
        """Generate images from init images (a mask makes it inpainting); ``script_name`` runs a script."""
        job = ctx.jobs.submit("img2img", generation_work(ctx, "img2img", body), source="api",
                              after=lambda result: generation_response(result, body))
        return await wait_for(ctx, job, request)

    def progress(skip_current_image: bool = False) -> dict:
        """Progress of the running job, with its live preview unless ``skip_current_image``."""
        return progress_body(ctx, skip_current_image)

    def interrupt() -> dict:
        """Stop the running job at the next sampling step; it returns what it finished."""
        ctx.jobs.interrupt()
        return {}

    def skip() -> None:
        """End the running batch at the next step and go on with the next batch."""
        ctx.jobs.skip()

    return [("POST", "/txt2img", txt2img), ("POST", "/img2img", img2img), ("GET", "/progress", progress),
            ("POST", "/interrupt", interrupt), ("POST", "/skip", skip)]
