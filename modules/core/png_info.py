"""Read A1111's `parameters` and other text from PNG text chunks and JPEG/WEBP EXIF UserComment, with Pillow only;
metadata is returned as text, never used."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from modules.core.errors import InvalidRequest

PARAMETERS_KEY = "parameters"


def read_text_chunks(image: Image.Image) -> dict[str, str]:
    """Return the text chunks (tEXt, zTXt, iTXt) of an opened PNG as plain strings; {} for other formats.

    Chunks after the image data are read too, which decodes the pixels (Pillow's size limits apply).
    """
    text = getattr(image, "text", None) if image.format == "PNG" else None
    source = text if isinstance(text, dict) else image.info
    return {str(key): str(value) for key, value in source.items() if isinstance(value, str)}


def read_png_parameters(path_or_file: str | Path | BinaryIO) -> str | None:
    """Return the `parameters` text chunk of a PNG file, or None if there is none.

    Raises InvalidRequest if the data is not an image Pillow can open.
    """
    try:
        with Image.open(path_or_file) as image:
            value = image.info.get(PARAMETERS_KEY)
            if isinstance(value, str):
                return str(value)
            if image.format != "PNG":
                return None
            return read_text_chunks(image).get(PARAMETERS_KEY)
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidRequest(f"Cannot read image metadata: {exc}") from exc


EXIF_IFD = 0x8769
USER_COMMENT = 0x9286
_UNICODE_PREFIX = b"UNICODE\0"
_ASCII_PREFIX = b"ASCII\0\0\0"
_IGNORED_INFO_KEYS = frozenset({"parameters", "exif", "icc_profile", "dpi", "jfif", "jfif_version", "jfif_unit",
                                "jfif_density", "adobe", "adobe_transform", "progressive", "progression",
                                "loop", "duration", "background", "transparency", "xmp", "gamma", "srgb",
                                "chromaticity", "interlace", "aspect", "photoshop"})


def decode_user_comment(raw: bytes) -> str | None:
    """Return the text of an EXIF UserComment: `UNICODE\\0` + UTF-16 (big-endian as A1111 writes it; a BOM or a
    little-endian byte pattern is honoured too), `ASCII\\0\\0\\0` + text, or bare bytes read as UTF-8.

    >>> decode_user_comment(b"UNICODE\\0" + "a cat".encode("utf-16-be"))
    'a cat'
    >>> decode_user_comment(b"UNICODE\\0" + "a cat".encode("utf-16-le")), decode_user_comment(b"ASCII\\0\\0\\0hi")
    ('a cat', 'hi')
    """
    if not isinstance(raw, bytes) or not raw:
        return None
    if raw.startswith(_UNICODE_PREFIX):
        body = raw[len(_UNICODE_PREFIX):]
        return body.decode(_utf16_codec(body), errors="replace").rstrip("\0") or None
    if raw.startswith(_ASCII_PREFIX):
        raw = raw[len(_ASCII_PREFIX):]
    return raw.decode("utf-8", errors="replace").rstrip("\0").strip() or None


def _utf16_codec(body: bytes) -> str:
    """UTF-16 with a BOM, else big-endian unless zero bytes sit mostly at odd offsets (mostly-ASCII LE text)."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    sample = body[:512]
    zeros_even = sum(1 for i in range(0, len(sample), 2) if sample[i] == 0)
    zeros_odd = sum(1 for i in range(1, len(sample), 2) if sample[i] == 0)
    return "utf-16-le" if zeros_odd > zeros_even else "utf-16-be"


def read_user_comment(image: Image.Image) -> str | None:
    """Return the decoded EXIF UserComment of an opened image (JPEG, WEBP, PNG eXIf…), None without one.

    Read only through Pillow's `getexif()`: raw file bytes are never handed to an EXIF library.
    """
    try:
        raw = image.getexif().get_ifd(EXIF_IFD).get(USER_COMMENT)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error):
        return None
    if isinstance(raw, str):
        return raw.strip() or None
    return decode_user_comment(raw) if isinstance(raw, bytes) else None


def _other_items(image: Image.Image) -> dict[str, str]:
    chunks = read_text_chunks(image) if image.format == "PNG" else {}
    items = {str(k): v for k, v in image.info.items() if isinstance(v, str)} | chunks
    comment = image.info.get("comment")  # JPEG COM / GIF comment arrive as bytes
    if isinstance(comment, bytes) and comment:
        items["comment"] = comment.decode("utf-8", errors="replace")
    return {k: v for k, v in items.items() if k not in _IGNORED_INFO_KEYS}


def read_generation_info(image: Image.Image) -> tuple[str | None, dict[str, str]]:
    """Return (A1111 `parameters` text or None, the other text items) of an opened PNG, JPEG or WEBP.

    Order as A1111's reader: the PNG `parameters` chunk, then the EXIF UserComment. Text is returned as found,
    never interpreted; with a `parameters` chunk present the UserComment is listed among the other items.
    """
    items = _other_items(image)
    parameters = items.pop(PARAMETERS_KEY, None)
    direct = image.info.get(PARAMETERS_KEY)
    if parameters is None and isinstance(direct, str):
        parameters = direct
    comment = read_user_comment(image)
    if parameters is None:
        parameters = comment
    elif comment is not None:
        items["Exif UserComment"] = comment
    return parameters, items


def read_image_info(path_or_file: str | Path | BinaryIO) -> tuple[str | None, dict[str, str]]:
    """`read_generation_info` of an image file; raises InvalidRequest if Pillow cannot open it."""
    try:
        with Image.open(path_or_file) as image:
            return read_generation_info(image)
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidRequest(f"Cannot read image metadata: {exc}") from exc
