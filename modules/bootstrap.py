"""Composition root: the one place that knows every layer and wires them into an app."""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path

from fastapi import FastAPI
from starlette.routing import Mount

from modules.adapters.devices import DevicePolicy
from modules.adapters.diffusers_backend import DiffusersBackend
from modules.adapters.memory_stats import cuda_memory
from modules.adapters.merge_files import MergeFiles
from modules.adapters.upscaler_models import NetworkUpscaler
from modules.core.addon_catalog import AddonCatalog
from modules.core.builtin_extensions.prompt_styles import NAME as STYLES_NAME
from modules.core.builtin_extensions.prompt_styles import PromptStyles
from modules.core.context import AppContext
from modules.core.extensions import ExtensionHost, ExtensionRecord
from modules.core.errors import WebUIError
from modules.core.generation import GenerationService
from modules.core.job_addons import AddonSetup
from modules.core.job_queue import JobQueue
from modules.core.merge_service import MergeService
from modules.core.hashes import HashCache
from modules.core.model_catalog import ModelCatalog
from modules.core.model_manager import ModelManager
from modules.core.paths import Paths
from modules.core.postprocessing import PostprocessingService
from modules.core.progress import ProgressTracker
from modules.core.settings import SettingsStore
from modules.core.settings_freeze import FreezeRules
from modules.core.style_store import StyleStore
from modules.core.upscalers import UpscalerCatalog, upscaler_folders
from modules.interfaces.cli import LaunchOptions
from modules.interfaces.credentials import CredentialStore, exposed_without_login, ui_credentials
from modules.extension_loader import ExtensionChoices, load_extensions
from modules.interfaces.gradio_ui.ui_hooks import UiHooks
from modules.interfaces.http_api.access import AccessMiddleware, AccessPolicy
from modules.interfaces.http_api.api_hooks import ApiHooks
from modules.interfaces.http_api.errors import install_error_handlers
from modules.interfaces.http_api.routes import build_router

log = logging.getLogger(__name__)
INSTALL_DIR = Path(__file__).resolve().parent.parent


def build_paths(options: LaunchOptions) -> Paths:
    """Resolve every folder from the flags."""
    data_dir = Path(options.data_dir or INSTALL_DIR).resolve()
    paths = Paths.from_root(
        data_dir, install_dir=INSTALL_DIR, models_dir=_path(options.models_dir), ckpt_dir=_path(options.ckpt_dir),
        vae_dir=_path(options.vae_dir), lora_dir=_path(options.lora_dir),
        embeddings_dir=_path(options.embeddings_dir))
    if options.ui_settings_file:
        paths = dataclasses.replace(paths, config_file=Path(options.ui_settings_file).resolve())
    if options.ui_config_file:
        paths = dataclasses.replace(paths, ui_config_file=Path(options.ui_config_file).resolve())
    return paths


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None


def create_context(options: LaunchOptions) -> AppContext:
    """Build every service once and return the AppContext."""
    paths = build_paths(options)
    paths.ensure_user_folders()
    settings = SettingsStore(paths.config_file, frozen=FreezeRules.from_flags(
        freeze_settings=options.freeze_settings, in_sections=options.freeze_settings_in_sections,
        specific=options.freeze_specific_settings, hide_ui_dir_config=options.hide_ui_dir_config,
        exposed=exposed_without_login(options)))
    extra = (Path(options.ckpt).resolve(),) if options.ckpt else ()
    hashes = HashCache(paths.cache_dir / "hashes.json")  # one instance per file: it rewrites the whole file
    catalog = ModelCatalog(paths.ckpt_dirs, hashes, extra_files=extra)
    addons = AddonCatalog(paths, hashes)
    policy = DevicePolicy(force_cpu=options.force_cpu, no_half=options.no_half, precision=options.precision,
                          device_id=options.device_id, xformers=options.xformers or options.force_enable_xformers)
    backend = DiffusersBackend(paths.configs_dir, policy)
    models = ModelManager(catalog, backend, settings, hashing=not options.no_hashing)
    progress = ProgressTracker()
    jobs = JobQueue(progress)  # one device: generation, upscalers and model switches take turns in FIFO order
    forced_vae = Path(options.vae_path).resolve() if options.vae_path else None
    styles = StyleStore(tuple(Path(f).resolve() for f in options.styles_file) or (paths.styles_file,))
    upscalers, extras = _upscaling(options, paths, settings, progress, jobs)
    extensions = _extensions(options, paths, settings, styles)
    generation = GenerationService(models=models, settings=settings, paths=paths, progress=progress,
                                   addons=AddonSetup(models=models, addons=addons, forced_vae=forced_vae),
                                   extensions=extensions, queue=jobs, upscale_to=extras.upscale_to)
    merger = MergeService(catalog=catalog, addons=addons, paths=paths, progress=progress, queue=jobs,
                          files=MergeFiles())
    ctx = AppContext(paths=paths, settings=settings, catalog=catalog, addons=addons, models=models,
                     generation=generation, progress=progress, jobs=jobs, styles=styles, upscalers=upscalers,
                     extras=extras, extensions=extensions, merger=merger)
    extensions.start(ctx)
    return ctx


def _extensions(options: LaunchOptions, paths: Paths, settings: SettingsStore, styles: StyleStore) -> ExtensionHost:
    """One plugin manager with the core, UI and API hookspecs: the built-in features first, then the user's
    extensions (``TRACE_HOOKS=1`` logs every hook call)."""
    host = ExtensionHost((UiHooks, ApiHooks))
    host.register(PromptStyles(styles), ExtensionRecord(STYLES_NAME, None, description="Prompt styles (styles.csv)",
                                                        builtin=True))
    current = settings.current()
    choices = ExtensionChoices(enabled=frozenset(current.get("enabled_extensions")),
                               disabled=frozenset(current.get("disabled_extensions")),
                               disable_all=options.disable_all_extensions or options.disable_extra_extensions)
    load_extensions(host, paths.extensions_dir, choices)
    if os.environ.get("TRACE_HOOKS") == "1":
        host.manager.trace.root.setwriter(log.info)
        host.manager.enable_tracing()
    return host


def _upscaling(options: LaunchOptions, paths: Paths, settings: SettingsStore, progress: ProgressTracker,
               jobs: JobQueue) -> tuple[UpscalerCatalog, PostprocessingService]:
    """The upscaler catalog and the Extras service; upscalers take turns in the job queue (one device)."""
    extra = {family: Path(folder).resolve() for family, folder in
             (("ESRGAN", options.esrgan_models_path), ("RealESRGAN", options.realesrgan_models_path)) if folder}
    catalog = UpscalerCatalog(upscaler_folders(paths.models_dir, extra))
    catalog.ensure_folders()
    policy = DevicePolicy(force_cpu=options.force_cpu or "esrgan" in options.use_cpu, no_half=options.no_half,
                          precision=options.precision, device_id=options.device_id)
    service = PostprocessingService(catalog=catalog, network=NetworkUpscaler(policy), settings=settings,
                                    paths=paths, progress=progress, queue=jobs)
    return catalog, service


def create_app(ctx: AppContext, *, api: bool, ui: bool, options: LaunchOptions | None = None) -> FastAPI:
    """A FastAPI app with the API (when asked) and the Gradio UI mounted at ``/`` (unless API-only); `options`
    (the launch flags) set authentication, CORS and what ``cmd-flags`` reports.

    One :class:`AccessMiddleware` wraps everything: each route that is not the UI's needs HTTP Basic with the
    ``--api-auth`` credentials, or else the ``--gradio-auth`` ones (a login-protected UI never has an open API);
    the UI asks for ``--gradio-auth``/``--gradio-auth-path`` through Gradio's own login page.
    """
    policy = AccessPolicy.from_options(options)
    app = FastAPI(title="Stable Diffusion web UI", docs_url="/docs", redoc_url="/redoc")
    install_error_handlers(app)
    if api:
        app.include_router(build_router(ctx, options, cuda_memory=cuda_memory))
        for _, router in ctx.extensions.each("register_routes", ctx=ctx):
            if router is not None:
                app.include_router(router)
    ui_app = None
    if ui:
        import gradio as gr  # noqa: PLC0415 - only the UI mode pays for importing gradio
        from modules.interfaces.gradio_ui.app import build_ui  # noqa: PLC0415
        from modules.interfaces.gradio_ui.page_assets import page_assets  # noqa: PLC0415

        blocks = build_ui(ctx)
        blocks.queue(default_concurrency_limit=1)
        assets = page_assets()
        logins = ui_credentials(options) if options else CredentialStore()
        app = gr.mount_gradio_app(app, blocks, path="/", allowed_paths=[], show_error=True, css=assets.css,
                                  head=assets.head, auth=logins.verify if logins else None)
        ui_app = next(route.app for route in app.router.routes if isinstance(route, Mount) and route.path == "")
    app.add_middleware(AccessMiddleware, policy=policy, router=app.router, ui_app=ui_app)
    return app


def load_initial_model(ctx: AppContext, options: LaunchOptions) -> threading.Thread | None:
    """Load the start-up checkpoint in the background so the UI comes up at once."""
    if options.skip_load_model_at_start or not ctx.catalog.checkpoints():
        return None

    def work():
        try:
            with ctx.jobs.turn("load model", source="startup"):
                if options.ckpt:
                    ctx.models.select_checkpoint(Path(options.ckpt).name)
                else:
                    ctx.models.ensure()
        except WebUIError as exc:
            log.error("Could not load a checkpoint at start-up: %s", exc)

    thread = threading.Thread(target=work, name="initial-model-load", daemon=True)
    thread.start()
    return thread
