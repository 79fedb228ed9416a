"""Prompt styles as A1111 applies them: `{prompt}` placeholders, appending with ", ", and stripping them back out.

The `styles.csv` file itself is read and written by `style_store.StyleStore`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

PLACEHOLDER = "{prompt}"


@dataclass(frozen=True)
class PromptStyle:
    """One row of `styles.csv`: a name and the texts it adds to the prompt and the negative prompt."""

    name: str
    prompt: str = ""
    negative_prompt: str = ""


def merge_style(style_text: str, prompt: str) -> str:
    """Put `prompt` into a style text: replace every `{prompt}`, else append the style after ", ".

    >>> merge_style("{prompt}, masterpiece", "a cat")
    'a cat, masterpiece'
    >>> merge_style(" film grain ", " a cat ")
    'a cat, film grain'
    >>> merge_style("", "a cat"), merge_style("film grain", "")
    ('a cat', 'film grain')
    """
    if PLACEHOLDER in style_text:
        return style_text.replace(PLACEHOLDER, prompt)
    return ", ".join(part for part in (prompt.strip(), style_text.strip()) if part)


def apply_styles(prompt: str, negative_prompt: str, styles: Sequence[PromptStyle]) -> tuple[str, str]:
    """Apply styles in order to both prompts (the first style wraps the user's text, the next wraps that).

    >>> cinema = PromptStyle("Cinema", "{prompt}, film still", "cartoon")
    >>> apply_styles("a fox", "blurry", [cinema, PromptStyle("Grain", "grain")])
    ('a fox, film still, grain', 'blurry, cartoon')
    """
    for style in styles:
        prompt = merge_style(style.prompt, prompt)
        negative_prompt = merge_style(style.negative_prompt, negative_prompt)
    return prompt, negative_prompt


def _unwrap(style_text: str, prompt: str) -> str | None:
    """Return `prompt` without the style's text if the style could have produced it, else None."""
    if PLACEHOLDER in style_text:
        pieces = style_text.split(PLACEHOLDER)
        if len(pieces) != 2:  # A1111 cannot tell where the prompt was with two placeholders: no match
            return None
        left, right = pieces
        if prompt.startswith(left) and prompt.endswith(right):
            return prompt[len(left):len(prompt) - len(right)]
        return None
    if not prompt.endswith(style_text):
        return None
    rest = prompt[:len(prompt) - len(style_text)]
    return rest[:-2] if rest.endswith(", ") else rest


def _unwrap_style(style: PromptStyle, prompt: str, negative_prompt: str) -> tuple[str, str] | None:
    if not style.prompt and not style.negative_prompt:
        return None
    positive = _unwrap(style.prompt, prompt)
    if positive is None:
        return None
    negative = _unwrap(style.negative_prompt, negative_prompt)
    if negative is None:
        return None
    return positive, negative


def extract_styles(prompt: str, negative_prompt: str,
                   styles: Sequence[PromptStyle]) -> tuple[tuple[str, ...], str, str]:
    """Find styles whose texts wrap both prompts and strip them, as A1111's `extract_styles_from_prompt`.

    Styles are tried in order and the first match is stripped, then the search starts again with the rest; a
    style matches only if both its prompt and its negative prompt match. Returns the names in the order they
    were applied (outermost last) with the prompts left over.

    >>> styles = [PromptStyle("Cinema", "{prompt}, film still", "cartoon"), PromptStyle("Grain", "grain")]
    >>> extract_styles("a fox, film still, grain", "blurry, cartoon", styles)
    (('Cinema', 'Grain'), 'a fox', 'blurry')
    >>> extract_styles("a fox", "blurry", styles)
    ((), 'a fox', 'blurry')
    """
    found: list[str] = []
    remaining = list(styles)
    while True:
        for style in remaining:
            stripped = _unwrap_style(style, prompt, negative_prompt)
            if stripped is not None:
                prompt, negative_prompt = stripped
                remaining.remove(style)
                found.append(style.name)
                break
        else:
            return tuple(reversed(found)), prompt, negative_prompt


INFOTEXT_STYLE_MODES = ("Apply if any", "Apply", "Discard", "Ignore")
"""Choices of A1111's `infotext_styles` setting (what pasting an infotext does with styles found in it)."""


def strip_infotext_styles(info: Mapping[str, object], styles: Sequence[PromptStyle],
                          mode: str = "Apply if any") -> dict[str, object]:
    """Take known styles out of a parsed infotext's prompts, as A1111's paste does per `infotext_styles`.

    `Ignore` changes nothing. Otherwise styles found in both prompts are stripped from them; `Apply` then
    always sets `Styles array`, `Apply if any` only when a style was found, `Discard` never. Hires prompts
    must carry the same styles or nothing is stripped; a hires prompt equal to the main one after stripping
    becomes "" (meaning "same as the prompt").

    >>> info = {"Prompt": "a fox, grain", "Negative prompt": "", "Steps": "20"}
    >>> strip_infotext_styles(info, [PromptStyle("Grain", "grain")])
    {'Prompt': 'a fox', 'Negative prompt': '', 'Steps': '20', 'Styles array': ['Grain']}
    """
    res = dict(info)
    if mode == "Ignore":
        return res
    prompt, negative = str(res.get("Prompt", "")), str(res.get("Negative prompt", ""))
    found, bare, bare_negative = extract_styles(prompt, negative, styles)
    if "Hires prompt" in res or "Hires negative prompt" in res:
        hires = str(res.get("Hires prompt", prompt)), str(res.get("Hires negative prompt", negative))
        hires_found, hires_bare, hires_bare_negative = extract_styles(*hires, styles)
        if hires_found != found:
            return res
        res["Hires prompt"] = "" if hires_bare == bare else hires_bare
        res["Hires negative prompt"] = "" if hires_bare_negative == bare_negative else hires_bare_negative
    res["Prompt"], res["Negative prompt"] = bare, bare_negative
    if mode == "Apply" or (mode == "Apply if any" and found):
        res["Styles array"] = list(found)
    return res
