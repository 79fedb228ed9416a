"""Small page actions the browser tests share."""
from __future__ import annotations


def set_number(page, elem: str, value: str) -> None:
    """Type `value` into the number box of the slider or number component ``#elem`` and commit it."""
    box = page.locator(f"#{elem} input[type=number]").first
    box.fill(value)
    box.press("Enter")


def set_numbers(page, values: dict[str, str]) -> None:
    """`set_number` for each ``{elem: value}``."""
    for elem, value in values.items():
        set_number(page, elem, value)
