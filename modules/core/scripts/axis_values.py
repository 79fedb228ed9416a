"""A1111's X/Y/Z value syntax: comma-separated (csv quoting), and for numbers the ranges ``1-5``,
``1-10 (+2)`` (a step) and ``10-30 [5]`` (a count of evenly spaced values)."""
from __future__ import annotations

import csv
import io
import math
import re

from ..errors import InvalidRequest

_NUM = r"[+-]?\s*\d+(?:\.\d*)?"
_STEP_RANGE = re.compile(rf"\s*({_NUM})\s*-\s*({_NUM})\s*(?:\(\s*([+-]?\s*\d+(?:\.\d*)?)\s*\))?\s*")
_COUNT_RANGE = re.compile(rf"\s*({_NUM})\s*-\s*({_NUM})\s*\[\s*(\d+)\s*\]\s*")


def split_values(text: str) -> list[str]:
    """Comma-separated values, csv-quoted, stripped, empty ones dropped.

    >>> split_values('Euler a, "DPM++ 2M, Karras" ,, DDIM')
    ['Euler a', 'DPM++ 2M, Karras', 'DDIM']
    """
    rows = list(csv.reader(io.StringIO(text.strip()), skipinitialspace=True)) if text.strip() else []
    return [value.strip() for row in rows for value in row if value.strip()]


def _number(text: str) -> float:
    return float(text.replace(" ", ""))


def _expand(item: str, integer: bool) -> list[float] | None:
    """The numbers a range item stands for, or None when it is not a range."""
    if (m := _COUNT_RANGE.fullmatch(item)) is not None:
        start, end, count = _number(m.group(1)), _number(m.group(2)), int(m.group(3))
        if count < 1:
            raise InvalidRequest(f"{item!r}: a range needs at least 1 value")
        values = [start + (end - start) * i / (count - 1) for i in range(count)] if count > 1 else [start]
        return [float(int(v)) for v in values] if integer else values
    if (m := _STEP_RANGE.fullmatch(item)) is not None:
        start, end = _number(m.group(1)), _number(m.group(2))
        step = _number(m.group(3)) if m.group(3) else 1.0
        if step == 0 or (end - start) * step < 0:
            raise InvalidRequest(f"{item!r}: the step {step:g} never reaches {end:g}")
        count = math.floor((end - start) / step + 1e-9) + 1
        return [round(start + i * step, 8) for i in range(count)]
    return None


def parse_numbers(text: str, integer: bool, label: str = "value") -> list[int] | list[float]:
    """Numbers from a values text with ranges expanded (ints for ``integer``); raise InvalidRequest naming the
    axis and the bad item.

    >>> parse_numbers("1-5", True), parse_numbers("1-10 (+3)", True), parse_numbers("10-30 [5]", True)
    ([1, 2, 3, 4, 5], [1, 4, 7, 10], [10, 15, 20, 25, 30])
    >>> parse_numbers("5, 7.5, 1-2 (+0.5)", False)
    [5.0, 7.5, 1.0, 1.5, 2.0]
    >>> parse_numbers("-1, 3", True)
    [-1, 3]
    """
    values: list[float] = []
    for item in split_values(text):
        expanded = _expand(item, integer)
        if expanded is not None:
            values += expanded
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise InvalidRequest(f"{label}: {item!r} is not a number") from None
    if integer:
        if any(not float(v).is_integer() for v in values):
            raise InvalidRequest(f"{label}: whole numbers only, got {text!r}")
        return [int(v) for v in values]
    return values


def parse_size(text: str, label: str = "Size") -> tuple[int, int]:
    """``"512x768"`` -> (512, 768).

    >>> parse_size(" 64 x 96 ")
    (64, 96)
    """
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise InvalidRequest(f"{label}: {text!r} is not WIDTHxHEIGHT")
    return int(parts[0]), int(parts[1])
