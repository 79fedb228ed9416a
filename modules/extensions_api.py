"""The one module extensions import: the hook marker, the hooks' value types and the request types.

An extension is a folder ``extensions/<name>/`` with ``extension.py`` (hook implementations, module level or in
a class instance) and ``extension.toml`` (``version``, ``description``, ``api = 1``, optional
``enabled_by_default = false``). Hooks (keyword arguments; return None to leave things as they are):

- ``app_started(ctx)``
- ``transform_request(ctx, request) -> request`` — e.g. ``dataclasses.replace(request, prompt=...)``
- ``postprocess_image(ctx, image, request) -> PIL.Image``
- ``extra_infotext(request) -> {field: value}``
- ``after_generation(ctx, result)``
- ``ui_tabs(ctx) -> [UiTab]``, ``generation_controls(ctx, tab) -> ExtensionControls`` (gradio inside `build`)
- ``register_routes(ctx) -> fastapi.APIRouter``

The values of an extension's generation controls arrive as ``request.extension_args[<folder name>]`` (a dict);
through the API, as ``alwayson_scripts: {"<folder name>": {"args": {...}}}``. A hook that raises is logged and
shown in the Extensions tab; the job goes on without it.
"""
from __future__ import annotations

from modules.core.hooks import hookimpl
from modules.core.params import GenerationRequest, Img2ImgRequest, Txt2ImgRequest
from modules.core.results import GeneratedImage, GenerationResult
from modules.interfaces.gradio_ui.ui_hooks import ExtensionControls, UiTab

API_VERSION = 1

__all__ = ["API_VERSION", "ExtensionControls", "GeneratedImage", "GenerationRequest", "GenerationResult",
           "Img2ImgRequest", "Txt2ImgRequest", "UiTab", "hookimpl"]
