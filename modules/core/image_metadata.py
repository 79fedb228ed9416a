"""Generation text and other metadata of an opened image (PNG chunks, EXIF UserComment), read with Pillow only."""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from .png_info import PARAMETERS_KEY, read_text_chunks

EXIF_IFD = 0x8769
USER_COMMENT = 0x9286
# Pillow's info keys that describe the encoding, not the picture's story (A1111 drops the same kind of keys).
ENCODING_KEYS = frozenset({"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "exif", "loop", "background",
                           "timestamp", "duration", "progressive", "progression", "icc_profile", "chromaticity",
                           "photoshop", "adobe", "adobe_transform", "transparency", "gamma", "aspect", "srgb"})


@dataclass(frozen=True)
class ImageMetadata:
    """The ``parameters`` text (``""`` when none) and every other text item of an image."""

    parameters: str = ""
    items: dict[str, str] = field(default_factory=dict)


def decode_user_comment(raw: bytes | str) -> str | None:
    """Decode an EXIF UserComment: 8-byte charset prefix, then UTF-16-BE for ``UNICODE`` (A1111 writes that).

    >>> decode_user_comment(b"UNICODE\\x00" + "Steps: 2".encode("utf-16-be"))
    'Steps: 2'
    >>> decode_user_comment(b"ASCII\\x00\\x00\\x00hello")
    'hello'
    """
    if isinstance(raw, str):
        return raw.strip("\x00") or None
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        text = body.decode("utf-16-be", errors="replace")
    elif prefix.startswith((b"ASCII", b"\x00" * 8)):
        text = body.decode("utf-8", errors="replace")
    else:
        text = raw.decode("utf-8", errors="replace")
    return text.strip("\x00") or None


def exif_user_comment(image: Image.Image) -> str | None:
    """The EXIF UserComment of a JPEG/WEBP (through Pillow's parser, never piexif on raw bytes), or None."""
    try:
        raw = image.getexif().get_ifd(EXIF_IFD).get(USER_COMMENT)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return None
    return decode_user_comment(raw) if isinstance(raw, (bytes, str)) else None


def read_image_metadata(image: Image.Image) -> ImageMetadata:
    """The ``parameters`` chunk (or EXIF UserComment) of an opened image, and its other text items."""
    items = {key: value for key, value in read_text_chunks(image).items() if key.lower() not in ENCODING_KEYS}
    parameters = items.pop(PARAMETERS_KEY, None)
    comment = exif_user_comment(image)
    if comment is not None:
        if parameters is None:
            parameters = comment
        else:
            items["exif comment"] = comment
    return ImageMetadata(parameters=parameters or "", items=items)
