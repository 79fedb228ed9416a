"""Images that clients send (API base64 fields, uploads, PNG Info): one door with the limits that keep a hostile
image harmless. Formats are limited to PNG, JPEG and WEBP (plus BMP and GIF, simple formats Pillow reads safely);
the pixel count is checked from the header before any pixel is decoded (decompression bombs); Pillow's own text-chunk
limit refuses PNG text chunks that inflate beyond 1 MB; URLs are never fetched (no SSRF); nothing touches the disk."""
from __future__ import annotations

import base64
import binascii
import io
import re
from pathlib import Path

from PIL import Image

from .errors import InvalidRequest

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
MAX_INPUT_PIXELS = 8192 * 8192  # below Pillow's own bomb limit (about 179 megapixels), so it fails before decoding
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # one encoded image; the whole request body has its own limit
_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://|//|file:)", re.IGNORECASE)


def decode_base64_image(text: object, what: str = "image") -> Image.Image:
    """A base64 image, with or without a ``data:<mime>;base64,`` prefix (the MIME type is not trusted: the bytes
    decide); URLs and anything undecodable raise InvalidRequest naming `what`.

    >>> decode_base64_image("https://169.254.169.254/latest/meta-data", "mask")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    modules.core.errors.InvalidRequest: mask: image URLs are not accepted (the server never fetches URLs); send ...
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"{what}: expected a base64-encoded image")
    if _URL.match(text):
        raise InvalidRequest(f"{what}: image URLs are not accepted (the server never fetches URLs); send the image "
                             "as base64")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    compact = "".join(text.split())
    if len(compact) * 3 // 4 > MAX_IMAGE_BYTES:
        raise InvalidRequest(f"{what}: the image is larger than {MAX_IMAGE_BYTES >> 20} MB")
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"{what}: invalid image: not base64 ({exc})") from exc
    return open_image(raw, what)


def open_image(data: bytes | Path, what: str = "image") -> Image.Image:
    """Open image bytes or a file fully, with its metadata; raise InvalidRequest if it is not an allowed format,
    has more than MAX_INPUT_PIXELS pixels, or is truncated or corrupt."""
    try:
        image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data, formats=ALLOWED_FORMATS)
        if image.width * image.height > MAX_INPUT_PIXELS:
            raise InvalidRequest(f"{what}: invalid image: {image.width}x{image.height} is more than "
                                 f"{MAX_INPUT_PIXELS} pixels")
        image.load()
    except Image.UnidentifiedImageError as exc:
        raise InvalidRequest(f"{what}: invalid image: not a PNG, JPEG, WEBP, BMP or GIF image") from exc
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise InvalidRequest(f"{what}: invalid image: {exc}") from exc
    return image
