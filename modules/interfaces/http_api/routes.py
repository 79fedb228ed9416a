"""``/sdapi/v1`` routes (each also answers with a trailing slash), closing over the AppContext."""
from __future__ import annotations

from typing import Callable

from fastapi import APIRouter

from modules.core.context import AppContext
from modules.core.samplers import SAMPLERS, SCHEDULES
from modules.interfaces.launch_options import LaunchOptions

from .addon_routes import addon_routes
from .extras_routes import extras_routes
from .generation_routes import generation_routes
from .info_routes import info_routes
from .jobs_routes import jobs_router
from .options_routes import options_routes
from .script_routes import script_routes
from .server_routes import MemoryProbe, ServerControl, server_routes
from .style_routes import style_routes
from .strict_json import StrictJSONRoute

PREFIX = "/sdapi/v1"


def _route(router: APIRouter, method: str, path: str, handler: Callable) -> None:
    for variant in (path, path + "/"):
        router.add_api_route(PREFIX + variant, handler, methods=[method], include_in_schema=variant == path)


Routes = list[tuple[str, str, Callable]]


def build_router(ctx: AppContext, options: LaunchOptions | None = None, *, cuda_memory: MemoryProbe | None = None,
                 server_control: ServerControl | None = None) -> APIRouter:
    """All API routes of this build (`options`: the launch flags, for routes that report or depend on them;
    `cuda_memory`: the device probe for ``memory``; `server_control`: what ``server-*`` routes call)."""
    router = APIRouter(route_class=StrictJSONRoute)
    routes = (*generation_routes(ctx), *_model_routes(ctx), *options_routes(ctx), *_listing_routes(),
              *addon_routes(ctx), *style_routes(ctx), *extras_routes(ctx), *info_routes(ctx), *script_routes(),
              *server_routes(ctx, options, cuda_memory=cuda_memory, server_control=server_control))
    for method, path, handler in routes:
        _route(router, method, path, handler)
    router.include_router(jobs_router(ctx))
    return router


def _model_routes(ctx: AppContext) -> Routes:
    """Checkpoint listing and actions, embeddings."""
    def sd_models() -> list[dict]:
        """Every checkpoint: title, name, short hash and sha256 (once known), path relative to its folder."""
        return [{"title": r.title, "model_name": r.model_name, "hash": r.short_hash, "sha256": r.sha256,
                 "filename": r.name, "config": None} for r in ctx.catalog.checkpoints()]

    def refresh_checkpoints() -> None:
        """Rescan the checkpoint folders."""
        ctx.catalog.refresh()

    def embeddings() -> dict:
        """Embeddings the last job could use (``loaded``) and those it skipped."""
        report = ctx.generation.embedding_report()
        entry = {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None, "shape": None}
        return {"loaded": {name: {**entry, "vectors": n} for name, n in report.loaded.items()},
                "skipped": {name: {**entry, "vectors": 0} for name in report.skipped}}

    def refresh_embeddings() -> None:
        """Rescan the add-on folders (embeddings, VAEs, LoRAs)."""
        ctx.addons.refresh()

    def unload_checkpoint() -> dict:
        """Release the loaded checkpoints (after the running job)."""
        with ctx.generation.work_lock:
            ctx.models.unload()
        return {}

    def reload_checkpoint() -> dict:
        """Load the active checkpoint again."""
        with ctx.generation.work_lock:
            ctx.models.ensure()
        return {}

    return [("GET", "/sd-models", sd_models), ("POST", "/refresh-checkpoints", refresh_checkpoints),
            ("GET", "/embeddings", embeddings),
            ("POST", "/refresh-embeddings", refresh_embeddings), ("POST", "/unload-checkpoint", unload_checkpoint),
            ("POST", "/reload-checkpoint", reload_checkpoint)]


def _listing_routes() -> Routes:
    """Sampler and schedule listings."""
    def samplers() -> list[dict]:
        """Every sampler with its aliases and A1111 options."""
        return [{"name": s.name, "aliases": list(s.aliases), "options": s.a1111_options()} for s in SAMPLERS]

    def schedulers() -> list[dict]:
        """Every schedule type (name, label, aliases, default rho)."""
        return [{"name": s.name, "label": s.label, "aliases": list(s.aliases) or None,
                 "default_rho": s.default_rho, "need_inner_model": s.need_inner_model} for s in SCHEDULES]

    return [("GET", "/samplers", samplers), ("GET", "/schedulers", schedulers)]
