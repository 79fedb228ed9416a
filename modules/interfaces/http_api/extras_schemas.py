"""Pydantic bodies of the ``/sdapi/v1`` Extras routes (A1111 field names and defaults) and their conversions."""
from __future__ import annotations

import base64
import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pydantic import BaseModel, ConfigDict

from modules.core.image_input import decode_base64_image
from modules.core.postprocessing import ExtrasInput, ExtrasOptions


class ExtrasBaseBody(BaseModel):
    """Fields shared by ``extra-single-image`` and ``extra-batch-images``; ``null`` means the default."""

    model_config = ConfigDict(extra="ignore")

    resize_mode: int | None = 0
    show_extras_results: bool | None = True
    gfpgan_visibility: float | None = 0
    codeformer_visibility: float | None = 0
    codeformer_weight: float | None = 0
    upscaling_resize: float | None = 2
    upscaling_resize_w: int | None = 512
    upscaling_resize_h: int | None = 512
    upscaling_crop: bool | None = True
    upscaler_1: str | None = "None"
    upscaler_2: str | None = "None"
    extras_upscaler_2_visibility: float | None = 0
    upscale_first: bool | None = False

    def to_options(self) -> ExtrasOptions:
        """The core options; nulls become A1111's defaults."""
        v = {name: getattr(self, name) if getattr(self, name) is not None else field.default
             for name, field in ExtrasBaseBody.model_fields.items()}
        return ExtrasOptions(
            resize_mode=v["resize_mode"], upscaling_resize=v["upscaling_resize"],
            upscaling_resize_w=v["upscaling_resize_w"], upscaling_resize_h=v["upscaling_resize_h"],
            upscaling_crop=v["upscaling_crop"], upscaler_1=v["upscaler_1"], upscaler_2=v["upscaler_2"],
            upscaler_2_visibility=v["extras_upscaler_2_visibility"], upscale_first=v["upscale_first"],
            face_restoration_visibility=max(v["gfpgan_visibility"], v["codeformer_visibility"]))


class ExtrasSingleImageBody(ExtrasBaseBody):
    """``POST /sdapi/v1/extra-single-image``: one base64 image (a ``data:`` prefix is accepted)."""

    image: str | None = ""


class FileData(BaseModel):
    """One image of a batch: base64 data and its original file name."""

    model_config = ConfigDict(extra="ignore")

    data: str
    name: str | None = ""


class ExtrasBatchImagesBody(ExtrasBaseBody):
    """``POST /sdapi/v1/extra-batch-images``: a list of ``{data, name}`` images."""

    imageList: list[FileData] | None = None  # noqa: N815 - A1111's field name


def batch_inputs(body: ExtrasBatchImagesBody) -> list[ExtrasInput]:
    """The decoded images of a batch body, with their names."""
    return [ExtrasInput(decode_base64_image(item.data, f"imageList[{i}]"), item.name or None)
            for i, item in enumerate(body.imageList or [])]


def encode_png_with_texts(image: Image.Image, texts: dict[str, str]) -> str:
    """Raw base64 PNG (never a data URL) carrying the given text chunks."""
    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info if texts else None)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
