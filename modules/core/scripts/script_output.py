"""Helpers scripts share: infotext fields for their grids, blank cells, and the result they hand back."""
from __future__ import annotations

import dataclasses
from typing import Sequence

from PIL import Image

from ..infotext import quote_value
from ..results import GeneratedImage, GenerationResult


def with_fields(infotext: str, fields: Sequence[tuple[str, object]]) -> str:
    """``infotext`` with ``Key: value`` pairs appended to its parameter line (A1111's script fields).

    >>> with_fields("cat\\nSteps: 2, Seed: 1", [("Script", "X/Y/Z plot"), ("X Values", "3, 7")])
    'cat\\nSteps: 2, Seed: 1, Script: X/Y/Z plot, X Values: "3, 7"'
    """
    if not fields:
        return infotext
    extra = ", ".join(f"{key}: {quote_value(value)}" for key, value in fields)
    return f"{infotext}, {extra}" if infotext else extra


def blank_like(image: Image.Image | None, size: tuple[int, int]) -> Image.Image:
    """The black cell A1111 shows where a generation made nothing (interrupted)."""
    return Image.new("RGB", image.size if image is not None else size)


def script_result(first: GenerationResult, *, images: Sequence[GeneratedImage], grid: GeneratedImage | None,
                  extra_grids: Sequence[GeneratedImage] = (), interrupted: bool = False,
                  warnings: Sequence[str] = ()) -> GenerationResult:
    """The first cell's result (its seed, prompt, model... as A1111's ``info``) carrying the script's images."""
    return dataclasses.replace(first, images=tuple(images), grid=grid, extra_grids=tuple(extra_grids),
                               interrupted=interrupted or first.interrupted,
                               warnings=tuple(dict.fromkeys((*first.warnings, *warnings))))
