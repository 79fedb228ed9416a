"""Images from clients (spec cases 7, 8, 9 and section 2.9): invalid, lying, oversized and URL images are refused
with 422 before any work and nothing is written; EXIF bytes are never taken for a file name."""
from __future__ import annotations

import base64
import io
import os
import struct
import threading
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.core.errors import InvalidRequest
from modules.core.image_input import MAX_INPUT_PIXELS, decode_base64_image
from tests.support.api_client import api_client


ROUTES = (("/sdapi/v1/img2img", "init_images", True), ("/sdapi/v1/img2img", "mask", False),
          ("/sdapi/v1/extra-single-image", "image", False), ("/sdapi/v1/png-info", "image", False))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with api_client(tmp_path_factory.mktemp("images") / "data") as test_client:
        yield test_client


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _png_bytes(size=(32, 32), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG", **save)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (its data would inflate to gigabytes)."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    data = _chunk(b"IDAT", zlib.compress(b"\0" * 4096))
    return b"\x89PNG\r\n\x1a\n" + header + data + _chunk(b"IEND", b"")


def _text_bomb() -> bytes:
    """A valid small PNG with a zTXt chunk that inflates to 200 MB."""
    png = _png_bytes()
    packer, block = zlib.compressobj(9), b"A" * (1 << 20)
    compressed = b"".join(packer.compress(block) for _ in range(200)) + packer.flush()
    ztxt = _chunk(b"zTXt", b"parameters\0\0" + compressed)
    return png[:-12] + ztxt + png[-12:]


BAD = {
    "not base64": "%%%not-base64%%%",
    "html": _b64(b"<html><script>alert(1)</script></html>"),
    "svg": _b64(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    "lying data url": "data:image/png;base64," + _b64(b"GIF89a-but-not-really"),
    "truncated png": _b64(_png_bytes((64, 64))[:60]),
    "tiff": None,  # filled below: a real image in a format outside the allowlist
    "bomb": _b64(_bomb(100_000, 100_000)),
}


def _tiff() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="TIFF")
    return _b64(buffer.getvalue())


def _body(route: str, field: str, value: str, is_list: bool) -> dict:
    body = {"prompt": "x", "steps": 1, "width": 64, "height": 64} if route.endswith("img2img") else {}
    if field == "mask":
        body["init_images"] = [_b64(_png_bytes())]
    body[field] = [value] if is_list else value
    return body


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("route,field,is_list", ROUTES)
def test_bad_images_are_422_and_nothing_is_written(client, kind, route, field, is_list):
    """Cases 7 and 8: invalid base64, HTML/SVG, a lying data URL, a truncated image, a format outside the
    allowlist and a decompression bomb -> 422 "invalid image", no file written."""
    value = BAD[kind] or _tiff()
    before = set(client.data_dir.rglob("*"))
    response = client.post(route, json=_body(route, field, value, is_list))
    assert response.status_code == 422, (kind, route, field, response.text)
    assert "invalid image" in response.json()["detail"] or "base64" in response.json()["detail"]
    assert set(client.data_dir.rglob("*")) == before


@pytest.mark.parametrize("url", ["http://127.0.0.1:7860/sdapi/v1/options", "https://169.254.169.254/latest/",
                                 "file:///etc/passwd", "//example.com/a.png", "HTTPS://example.com/x.png"])
@pytest.mark.parametrize("route,field,is_list", ROUTES)
def test_image_urls_are_never_fetched(client, url, route, field, is_list):
    """Case 9: URLs of any scheme are refused (no URL inputs at all), so nothing is fetched."""
    response = client.post(route, json=_body(route, field, url, is_list))
    assert response.status_code == 422 and "URLs are not accepted" in response.json()["detail"], response.text


def test_pixel_limit_is_below_pillows_and_checked_before_decoding():
    """Case 8: the limit is below Pillow's own bomb threshold; a 100000x100000 header fails at once."""
    assert MAX_INPUT_PIXELS < Image.MAX_IMAGE_PIXELS
    with pytest.raises(InvalidRequest, match="more than"):
        decode_base64_image(_b64(_bomb(10_000, 10_000)))  # under Pillow's limit, over ours
    assert decode_base64_image(_b64(_png_bytes((64, 48)))).size == (64, 48)


def test_a_compressed_text_chunk_bomb_is_refused_without_inflating_it(client):
    """Case 8: a zTXt chunk that would inflate to 200 MB is refused (Pillow's text-chunk limit)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = client.post("/sdapi/v1/png-info", json={"image": _b64(_text_bomb())})
    assert response.status_code == 422 and "invalid image" in response.json()["detail"]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB"


def test_webp_exif_holding_a_path_is_never_opened(client, tmp_path):
    """Section 2.9: a WEBP whose EXIF chunk is a file path: reading its metadata never opens that path (a FIFO
    would block the reader forever if it did)."""
    fifo = tmp_path / "trap.fifo"
    os.mkfifo(fifo)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="WEBP", exif=str(fifo).encode())
    result: dict = {}

    def call():
        result["response"] = client.post("/sdapi/v1/png-info", json={"image": _b64(buffer.getvalue())})
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("reading the WEBP's EXIF opened the path stored in it")
    assert result["response"].status_code == 200


def test_png_text_metadata_still_reads(client):
    """The limits do not get in the way of ordinary metadata (A1111 ``parameters``)."""
    info = PngInfo()
    info.add_text("parameters", "a cat\nSteps: 5, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 32x32")
    data = client.post("/sdapi/v1/png-info", json={"image": _b64(_png_bytes(pnginfo=info))}).json()
    assert str(data["parameters"]["Seed"]) == "1" and data["info"].startswith("a cat")
