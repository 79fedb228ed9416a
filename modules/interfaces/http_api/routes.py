"""``/sdapi/v1`` routes (each also answers with a trailing slash), closing over the AppContext."""
from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Body

from modules.core.context import AppContext
from modules.core.samplers import SAMPLERS, SCHEDULES
from modules.interfaces.launch_options import LaunchOptions

from .addon_routes import addon_routes
from .extras_routes import extras_routes
from .generation_routes import generation_routes
from .jobs_routes import jobs_router
from .style_routes import style_routes

PREFIX = "/sdapi/v1"


def _route(router: APIRouter, method: str, path: str, handler: Callable) -> None:
    for variant in (path, path + "/"):
        router.add_api_route(PREFIX + variant, handler, methods=[method], include_in_schema=variant == path)


Routes = list[tuple[str, str, Callable]]


def build_router(ctx: AppContext, options: LaunchOptions | None = None) -> APIRouter:
    """All API routes of this build (`options`: the launch flags, for routes that report or depend on them)."""
    router = APIRouter()
    routes = (*generation_routes(ctx), *_model_routes(ctx), *_listing_routes(), *addon_routes(ctx),
              *style_routes(ctx), *extras_routes(ctx))
    for method, path, handler in routes:
        _route(router, method, path, handler)
    router.include_router(jobs_router(ctx))
    return router


def _model_routes(ctx: AppContext) -> Routes:
    def sd_models() -> list[dict]:
        return [{"title": r.title, "model_name": r.model_name, "hash": r.short_hash, "sha256": r.sha256,
                 "filename": r.name, "config": None} for r in ctx.catalog.checkpoints()]

    def get_options() -> dict:
        return ctx.settings.current().as_dict()

    def set_options(changes: dict[str, Any] = Body(...)) -> None:
        changes = dict(changes)
        wanted = changes.pop("sd_model_checkpoint", None)
        changes.pop("sd_checkpoint_hash", None)
        current = ctx.settings.current()
        if wanted and wanted != current.get("sd_model_checkpoint"):
            with ctx.generation.work_lock:
                ctx.models.select_checkpoint(str(wanted))
        known = current.as_dict()
        ctx.settings.update({k: v for k, v in changes.items() if k in known}, from_api=True)
        return None

    def refresh_checkpoints() -> None:
        ctx.catalog.refresh()

    def embeddings() -> dict:
        report = ctx.generation.embedding_report()
        entry = {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None, "shape": None}
        return {"loaded": {name: {**entry, "vectors": n} for name, n in report.loaded.items()},
                "skipped": {name: {**entry, "vectors": 0} for name in report.skipped}}

    def refresh_embeddings() -> None:
        ctx.addons.refresh()

    def unload_checkpoint() -> dict:
        with ctx.generation.work_lock:
            ctx.models.unload()
        return {}

    def reload_checkpoint() -> dict:
        with ctx.generation.work_lock:
            ctx.models.ensure()
        return {}

    return [("GET", "/sd-models", sd_models), ("GET", "/options", get_options), ("POST", "/options", set_options),
            ("POST", "/refresh-checkpoints", refresh_checkpoints), ("GET", "/embeddings", embeddings),
            ("POST", "/refresh-embeddings", refresh_embeddings), ("POST", "/unload-checkpoint", unload_checkpoint),
            ("POST", "/reload-checkpoint", reload_checkpoint)]


def _listing_routes() -> Routes:
    def samplers() -> list[dict]:
        return [{"name": s.name, "aliases": list(s.aliases), "options": s.a1111_options()} for s in SAMPLERS]

    def schedulers() -> list[dict]:
        return [{"name": s.name, "label": s.label, "aliases": list(s.aliases) or None,
                 "default_rho": s.default_rho, "need_inner_model": s.need_inner_model} for s in SCHEDULES]

    return [("GET", "/samplers", samplers), ("GET", "/schedulers", schedulers)]
