"""Tests for modules.core.png_info."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.core.errors import InvalidRequest
from modules.core.png_info import read_png_parameters, read_text_chunks


def _png(**chunks: str) -> bytes:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _append_before_iend(png: bytes, key: str, value: str) -> bytes:
    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + chunk + png[iend:]


def test_reads_latin1_and_utf8_parameters(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(_png(parameters="a cat\nSteps: 20, Sampler: Euler, Seed: 1"))
    assert read_png_parameters(path) == "a cat\nSteps: 20, Sampler: Euler, Seed: 1"
    text = "猫, café\nSteps: 20, Sampler: Euler, Seed: 1"
    assert read_png_parameters(io.BytesIO(_png(parameters=text))) == text
    assert type(read_png_parameters(io.BytesIO(_png(parameters=text)))) is str
    assert read_png_parameters(str(path)) is not None


def test_missing_chunk_returns_none():
    assert read_png_parameters(io.BytesIO(_png(other="x"))) is None


def test_chunk_after_image_data():
    data = _append_before_iend(_png(), "parameters", "late\nSteps: 1, Sampler: Euler, Seed: 2")
    assert read_png_parameters(io.BytesIO(data)) == "late\nSteps: 1, Sampler: Euler, Seed: 2"


def test_compressed_chunk():
    info = PngInfo()
    info.add_text("parameters", "z" * 2000, zip=True)
    buf = io.BytesIO()
    Image.new("L", (2, 2)).save(buf, format="PNG", pnginfo=info)
    buf.seek(0)
    assert read_png_parameters(buf) == "z" * 2000


def test_read_text_chunks():
    with Image.open(io.BytesIO(_png(parameters="p", postprocessing="q", extras="é"))) as image:
        assert read_text_chunks(image) == {"parameters": "p", "postprocessing": "q", "extras": "é"}
    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, format="JPEG")
    buf.seek(0)
    with Image.open(buf) as image:
        assert read_text_chunks(image) == {}


def test_metadata_is_not_interpreted(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("secret")
    assert read_png_parameters(io.BytesIO(_png(parameters=str(target)))) == str(target)


def test_non_png_and_garbage():
    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, format="JPEG")
    buf.seek(0)
    assert read_png_parameters(buf) is None
    with pytest.raises(InvalidRequest):
        read_png_parameters(io.BytesIO(b"not an image"))
    with pytest.raises(InvalidRequest):
        read_png_parameters(io.BytesIO(_png(parameters="x")[:60]))
