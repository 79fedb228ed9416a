"""``/sdapi/v1`` upscaler listings and the Extras routes, closing over the AppContext."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from modules.core.context import AppContext
from modules.core.postprocessing import ExtrasInput
from modules.core.upscalers import LATENT_UPSCALE_MODES, UpscalerRecord

from .extras_schemas import (ExtrasBatchImagesBody, ExtrasSingleImageBody, batch_inputs, decode_base64_image,
                             encode_png_with_texts)

Routes = list[tuple[str, str, Callable]]


def relative_model_path(record: UpscalerRecord, models_dir: Path) -> str | None:
    """The file relative to the models folder (no host paths in listings), or its name when outside it."""
    if record.path is None:
        return None
    try:
        return record.path.relative_to(models_dir).as_posix()
    except ValueError:
        return record.path.name


def extras_routes(ctx: AppContext) -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for upscalers, latent modes and the two Extras routes."""

    def upscalers() -> list[dict]:
        """Every upscaler in A1111's order: None, Lanczos, Nearest, then model files by name."""
        return [{"name": r.name, "model_name": r.family, "model_path": relative_model_path(r, ctx.paths.models_dir),
                 "model_url": None, "scale": r.scale} for r in ctx.upscalers.upscalers()]

    def latent_upscale_modes() -> list[dict]:
        """The latent upscale modes hires fix accepts."""
        return [{"name": mode.name} for mode in LATENT_UPSCALE_MODES]

    def extra_single_image(body: ExtrasSingleImageBody) -> dict:
        """Upscale one image; the result is not saved, as in A1111."""
        source = ExtrasInput(decode_base64_image(body.image))
        result = ctx.extras.run(body.to_options(), [source], save=False)
        output = result.outputs[0]
        return {"html_info": result.html_info, "image": encode_png_with_texts(output.image, output.texts)}

    def extra_batch_images(body: ExtrasBatchImagesBody) -> dict:
        """Upscale every image of ``imageList``, in order; nothing is saved."""
        result = ctx.extras.run(body.to_options(), batch_inputs(body), save=False)
        return {"html_info": result.html_info,
                "images": [encode_png_with_texts(o.image, o.texts) for o in result.outputs]}

    return [("GET", "/upscalers", upscalers), ("GET", "/latent-upscale-modes", latent_upscale_modes),
            ("POST", "/extra-single-image", extra_single_image), ("POST", "/extra-batch-images", extra_batch_images)]
