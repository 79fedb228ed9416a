"""``/sdapi/v1`` image-information routes (``png-info``, ``interrogate``) and the listings of model kinds this
build has none or few of (hypernetworks, face restorers, RealESRGAN models)."""
from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from modules.core.context import AppContext
from modules.core.errors import ModelNotFound
from modules.core.image_metadata import read_image_metadata
from modules.core.infotext import parse_infotext

from .extras_routes import relative_model_path
from .img2img_schemas import decode_image

Routes = list[tuple[str, str, Callable]]


class PngInfoBody(BaseModel):
    """``POST png-info``: one base64 image (PNG, JPEG or WEBP; a data-URL prefix is fine)."""

    model_config = ConfigDict(extra="ignore")
    image: str


class InterrogateBody(BaseModel):
    """``POST interrogate``: a base64 image and the captioner's name (A1111: ``clip`` or ``deepdanbooru``)."""

    model_config = ConfigDict(extra="ignore")
    image: str = ""
    model: str = "clip"


def png_info(body: PngInfoBody) -> dict[str, Any]:
    """The image's infotext, its other text items, and the infotext parsed into A1111's keys."""
    with decode_image(body.image.strip()) as image:
        metadata = read_image_metadata(image)
    return {"info": metadata.parameters, "items": metadata.items,
            "parameters": parse_infotext(metadata.parameters)}


def interrogate(body: InterrogateBody) -> dict[str, Any]:
    """No captioner ships with this build: a clean 404, as A1111 answers for an unknown model."""
    raise ModelNotFound(f"Model not found: {body.model!r} (no image captioner is installed)")


def info_routes(ctx: AppContext) -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for png-info, interrogate and three listings."""

    def hypernetworks() -> list[dict[str, Any]]:
        """Hypernetworks are not supported: always empty."""
        return []

    def face_restorers() -> list[dict[str, Any]]:
        """No face restorer (GFPGAN, CodeFormer) is available: empty."""
        return []

    def realesrgan_models() -> list[dict[str, Any]]:
        """The RealESRGAN files of the upscaler catalog (paths relative to the models folder)."""
        return [{"name": r.name, "path": relative_model_path(r, ctx.paths.models_dir), "scale": r.scale}
                for r in ctx.upscalers.upscalers() if r.family == "RealESRGAN"]

    return [("POST", "/png-info", png_info), ("POST", "/interrogate", interrogate),
            ("GET", "/hypernetworks", hypernetworks), ("GET", "/face-restorers", face_restorers),
            ("GET", "/realesrgan-models", realesrgan_models)]
