"""Read PNG text chunks such as A1111's `parameters` with Pillow; metadata is returned as text, never used."""
from __future__ import annotations

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
