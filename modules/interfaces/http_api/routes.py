"""``/sdapi/v1`` routes (each also answers with a trailing slash), closing over the AppContext."""
from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Body

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest
from modules.core.samplers import SAMPLERS, SCHEDULES

from .schemas import Txt2ImgBody, encode_png_with_info, info_payload

PREFIX = "/sdapi/v1"


def _route(router: APIRouter, method: str, path: str, handler: Callable) -> None:
    for variant in (path, path + "/"):
        router.add_api_route(PREFIX + variant, handler, methods=[method], include_in_schema=variant == path)


def build_router(ctx: AppContext) -> APIRouter:
    """All API routes of this build."""
    router = APIRouter()

    def txt2img(body: Txt2ImgBody) -> dict:
        result = ctx.generation.txt2img(body.to_core())
        images = [encode_png_with_info(g.image, g.infotext) for g in result.images] if body.send_images else []
        parameters = body.model_dump()
        return {"images": images, "parameters": parameters, "info": info_payload(result, body)}

    def sd_models() -> list[dict]:
        return [{"title": r.title, "model_name": r.model_name, "hash": r.short_hash, "sha256": r.sha256,
                 "filename": r.name, "config": None} for r in ctx.catalog.checkpoints()]

    def get_options() -> dict:
        return ctx.settings.current().as_dict()

    def set_options(changes: dict[str, Any] = Body(...)) -> None:
        if not isinstance(changes, dict):
            raise InvalidRequest("options must be a JSON object")
        changes = dict(changes)
        wanted = changes.pop("sd_model_checkpoint", None)
        current = ctx.settings.current()
        if wanted and wanted != current.get("sd_model_checkpoint"):
            with ctx.generation.work_lock:
                ctx.models.select_checkpoint(str(wanted))
        changes.pop("sd_checkpoint_hash", None)
        known = current.as_dict()
        ctx.settings.update({k: v for k, v in changes.items() if k in known}, from_api=True)
        return None

    def samplers() -> list[dict]:
        return [{"name": s.name, "aliases": list(s.aliases),
                 "options": {"scheduler": s.default_schedule} if s.default_schedule else {}} for s in SAMPLERS]

    def schedulers() -> list[dict]:
        return [{"name": s.name, "label": s.label, "aliases": list(s.aliases) or None,
                 "default_rho": -1, "need_inner_model": False} for s in SCHEDULES]

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

    def refresh_checkpoints() -> None:
        ctx.catalog.refresh()

    for method, path, handler in (
        ("POST", "/txt2img", txt2img), ("GET", "/sd-models", sd_models), ("GET", "/options", get_options),
        ("POST", "/options", set_options), ("GET", "/samplers", samplers), ("GET", "/schedulers", schedulers),
        ("GET", "/progress", progress), ("POST", "/interrupt", interrupt),
        ("POST", "/refresh-checkpoints", refresh_checkpoints),
    ):
        _route(router, method, path, handler)
    return router
