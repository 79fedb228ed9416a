"""Reading generation parameters and other text from PNG, JPEG and WEBP files (modules.core.png_info)."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.core.errors import InvalidRequest
from modules.core.png_info import decode_user_comment, read_generation_info, read_image_info

TEXT = ("猫, café <lora:detail:0.5>\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, "
        "CFG scale: 7, Seed: 1234567890, Size: 512x768, Lora hashes: \"detail: 0123456789ab\"")


def _with_comment(fmt: str, comment: bytes, **save) -> io.BytesIO:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = comment
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(buf, format=fmt, exif=exif.tobytes(), **save)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_a1111_user_comment_in_jpeg_and_webp(fmt):
    """A1111 writes `UNICODE\\0` + UTF-16-BE into the Exif IFD's UserComment."""
    parameters, items = read_image_info(_with_comment(fmt, b"UNICODE\0" + TEXT.encode("utf-16-be")))
    assert parameters == TEXT and items == {}


def test_user_comment_byte_orders_and_prefixes():
    assert decode_user_comment(b"UNICODE\0" + TEXT.encode("utf-16-le")) == TEXT
    assert decode_user_comment(b"UNICODE\0" + TEXT.encode("utf-16")) == TEXT  # with a BOM
    assert decode_user_comment(b"ASCII\0\0\0Steps: 20") == "Steps: 20"
    assert decode_user_comment(TEXT.encode("utf-8")) == TEXT
    assert decode_user_comment(b"") is None and decode_user_comment(b"UNICODE\0") is None


def test_png_parameters_and_other_chunks():
    info = PngInfo()
    info.add_text("parameters", TEXT)
    info.add_text("postprocessing", "Postprocess upscale by: 2")
    info.add_text("extras", "Upscaler: Lanczos")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG", pnginfo=info)
    buf.seek(0)
    parameters, items = read_image_info(buf)
    assert parameters == TEXT
    assert items == {"postprocessing": "Postprocess upscale by: 2", "extras": "Upscaler: Lanczos"}


def test_png_chunk_wins_and_the_user_comment_is_listed():
    info = PngInfo()
    info.add_text("parameters", TEXT)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + "other".encode("utf-16-be")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG", pnginfo=info, exif=exif.tobytes())
    with Image.open(buf) as image:
        assert read_generation_info(image) == (TEXT, {"Exif UserComment": "other"})


def test_jpeg_comment_and_plain_images():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="JPEG", comment=b"made by hand")
    buf.seek(0)
    assert read_image_info(buf) == (None, {"comment": "made by hand"})
    for fmt in ("PNG", "WEBP", "JPEG"):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, format=fmt)
        buf.seek(0)
        assert read_image_info(buf) == (None, {})


def test_camera_exif_without_user_comment():
    exif = Image.Exif()
    exif[0x0110] = "MyCam"  # IFD0 Model: what trips sd-prompt-reader must not bother us
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="JPEG", exif=exif.tobytes())
    buf.seek(0)
    assert read_image_info(buf) == (None, {})


def test_garbage_is_an_invalid_request_and_never_a_path(tmp_path, monkeypatch):
    """Bytes without an image magic are not treated as a file name (the piexif.load trap)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.txt").write_text("Steps: 1, Sampler: Euler, Seed: 1")
    with pytest.raises(InvalidRequest):
        read_image_info(io.BytesIO(b"secret.txt"))
    with pytest.raises(InvalidRequest):
        read_image_info(_truncated_jpeg())


def _truncated_jpeg() -> io.BytesIO:
    buf = _with_comment("JPEG", b"UNICODE\0" + TEXT.encode("utf-16-be"))
    return io.BytesIO(buf.getvalue()[:20])
