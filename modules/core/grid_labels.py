"""Grids with column and row headers (X/Y/Z plot, prompt matrix), drawn with Pillow's default font."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from .grids import cell_size, image_grid

_PAD = 4
_ACTIVE, _INACTIVE = (0, 0, 0), (153, 153, 153)


@dataclass(frozen=True)
class GridLabel:
    """One line of a header; an inactive line (a prompt-matrix part left out) is drawn grey and struck through."""

    text: str
    active: bool = True


@dataclass(frozen=True)
class LabelLayout:
    """Where the cells start: ``left`` pixels of row headers, ``top`` pixels of column headers."""

    left: int
    top: int
    font_size: int


def font_size_for(width: int, height: int) -> int:
    """Header font size for cells of this size (readable on tiny cells, not huge on big ones)."""
    return max(10, min(48, (width + height) // 25))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font, width: int) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` (a single long word keeps its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""] if text.strip() else []


def _lines(labels: Sequence[GridLabel], font, width: int) -> list[tuple[str, bool]]:
    return [(line, label.active) for label in labels for line in _wrap(label.text, font, width)]


def plan_labels(cell: tuple[int, int], columns: Sequence[Sequence[GridLabel]],
                rows: Sequence[Sequence[GridLabel]]) -> LabelLayout:
    """Sizes of the header bands: ``top`` fits the tallest column header, ``left`` is 3/4 of a cell's width
    when any row has a header (0 when there is nothing to draw)."""
    size = font_size_for(*cell)
    font = _font(size)
    line = size + size // 4
    left = cell[0] * 3 // 4 if any(label.text for labels in rows for label in labels) else 0
    most = max((len(_lines(labels, font, cell[0] - 2 * _PAD)) for labels in columns), default=0)
    top = most * line + 2 * _PAD if most else 0
    return LabelLayout(left=left, top=top, font_size=size)


def labelled_grid(images: Sequence[Image.Image], rows: int, columns: Sequence[Sequence[GridLabel]],
                  row_labels: Sequence[Sequence[GridLabel]] = (), margin: int = 0) -> Image.Image:
    """A grid of ``images`` in ``rows`` rows on white, with ``columns[i]`` above column i and ``row_labels[j]``
    left of row j; ``margin`` pixels between cells."""
    cell = cell_size(images)
    layout = plan_labels(cell, columns, row_labels)
    body = image_grid(images, rows, margin=margin, background="white")
    canvas = Image.new("RGB", (body.width + layout.left, body.height + layout.top), "white")
    canvas.paste(body, (layout.left, layout.top))
    draw, font = ImageDraw.Draw(canvas), _font(layout.font_size)
    step_x, step_y = cell[0] + margin, cell[1] + margin
    for i, labels in enumerate(columns[:math.ceil(len(images) / max(1, rows))]):
        box = (layout.left + i * step_x, 0, cell[0], layout.top)
        _draw_block(draw, font, _lines(labels, font, cell[0] - 2 * _PAD), box, layout.font_size)
    for j, labels in enumerate(row_labels[:rows]):
        box = (0, layout.top + j * step_y, layout.left, cell[1])
        _draw_block(draw, font, _lines(labels, font, layout.left - 2 * _PAD), box, layout.font_size)
    return canvas


def _draw_block(draw: ImageDraw.ImageDraw, font, lines: list[tuple[str, bool]], box: tuple[int, int, int, int],
                size: int) -> None:
    """Centre ``lines`` in ``box`` (x, y, width, height)."""
    x, y, width, height = box
    line = size + size // 4
    top = y + (height - line * len(lines)) // 2
    for n, (text, active) in enumerate(lines):
        centre = (x + width / 2, top + n * line + line / 2)
        draw.text(centre, text, font=font, fill=_ACTIVE if active else _INACTIVE, anchor="mm")
        if not active:
            half = font.getlength(text) / 2
            draw.line((centre[0] - half, centre[1], centre[0] + half, centre[1]), fill=_INACTIVE, width=1)
