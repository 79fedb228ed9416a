"""Image grids as A1111 makes them: rows from ``n_rows``, cells pasted left to right, top to bottom (Pillow only).

Labelled grids (X/Y/Z plot, prompt matrix) are in `grid_labels`.
"""
from __future__ import annotations

import math
from typing import Sequence

from PIL import Image


def grid_rows(count: int, batch_size: int, n_rows: int) -> int:
    """Rows of a job's grid: ``n_rows`` when positive, the batch size for 0, about √count for -1.

    >>> grid_rows(4, 1, -1), grid_rows(6, 3, 0), grid_rows(5, 1, 2), grid_rows(3, 1, -1)
    (2, 3, 2, 2)
    """
    if n_rows > 0:
        rows = n_rows
    elif n_rows == 0:
        rows = batch_size
    else:
        rows = round(math.sqrt(count))
    return max(1, min(rows, count))


def cell_size(images: Sequence[Image.Image]) -> tuple[int, int]:
    """The (width, height) every cell gets: the largest of the images."""
    return max(img.width for img in images), max(img.height for img in images)


def image_grid(images: Sequence[Image.Image], rows: int, *, margin: int = 0,
               background: str = "black") -> Image.Image:
    """Paste ``images`` into ``rows`` rows (columns = ceil(n / rows)) with ``margin`` pixels between cells.

    >>> image_grid([Image.new("RGB", (8, 4))] * 3, rows=2).size
    (16, 8)
    """
    if not images:
        raise ValueError("a grid needs at least one image")
    rows = max(1, min(rows, len(images)))
    cols = math.ceil(len(images) / rows)
    width, height = cell_size(images)
    grid = Image.new("RGB", (cols * width + (cols - 1) * margin, rows * height + (rows - 1) * margin), background)
    for i, img in enumerate(images):
        grid.paste(img.convert("RGB"), ((i % cols) * (width + margin), (i // cols) * (height + margin)))
    return grid
