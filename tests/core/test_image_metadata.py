"""Reading generation text from PNG chunks and EXIF UserComment with Pillow only."""
from __future__ import annotations

import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.core.image_metadata import EXIF_IFD, USER_COMMENT, read_image_metadata

TEXT = "a cat\nNegative prompt: dog\nSteps: 2, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64"


def reopen(image: Image.Image, fmt: str, **kwargs) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return Image.open(io.BytesIO(buffer.getvalue()))


def with_comment(comment: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
    return exif


def test_png_parameters_and_other_chunks():
    info = PngInfo()
    info.add_text("parameters", TEXT)
    info.add_itxt("Comment", "ünïcode")
    meta = read_image_metadata(reopen(Image.new("RGB", (8, 8)), "PNG", pnginfo=info))
    assert meta.parameters == TEXT and meta.items == {"Comment": "ünïcode"}


def test_jpeg_and_webp_user_comment_utf16_be():
    exif = with_comment(b"UNICODE\x00" + (TEXT + " ✓").encode("utf-16-be"))
    for fmt in ("JPEG", "WEBP"):
        meta = read_image_metadata(reopen(Image.new("RGB", (8, 8)), fmt, exif=exif.tobytes()))
        assert meta.parameters == TEXT + " ✓", fmt
        assert "exif" not in meta.items and "dpi" not in meta.items


def test_no_metadata():
    for fmt in ("PNG", "JPEG", "WEBP"):
        assert read_image_metadata(reopen(Image.new("RGB", (8, 8)), fmt)).parameters == ""
