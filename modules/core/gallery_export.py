"""Gallery downloads: one image, or every image of a result as a zip, each PNG keeping its ``parameters``."""
from __future__ import annotations

import io
import zipfile
from typing import Sequence

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .infotext import split_infotext


def png_bytes(image: Image.Image, infotext: str | None) -> bytes:
    """The image as PNG with its infotext in the ``parameters`` chunk (when it has one)."""
    info = PngInfo()
    if infotext:
        info.add_text("parameters", infotext)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def file_name(number: int, infotext: str | None) -> str:
    """``00001-<seed>.png`` (A1111's pattern), or ``00001.png`` without a seed."""
    seed = dict(split_infotext(infotext).fields).get("Seed") if infotext else None
    return f"{number:05d}-{seed}.png" if seed not in (None, "") else f"{number:05d}.png"


def zip_bytes(items: Sequence[tuple[Image.Image, str | None]]) -> bytes:
    """A zip of the images, numbered from 1, each with its infotext."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for number, (image, infotext) in enumerate(items, start=1):
            archive.writestr(file_name(number, infotext), png_bytes(image, infotext))
    return buffer.getvalue()
