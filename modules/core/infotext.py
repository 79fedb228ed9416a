"""Write and read A1111's `parameters` infotext (v1.10.1 layout, quoting and reader rules)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from modules.core.samplers import a1111_default_schedule, find_sampler, split_schedule_suffix

PARAMETER_ORDER: tuple[str, ...] = (
    "Steps", "Sampler", "Schedule type", "CFG scale", "Image CFG scale", "Seed", "Face restoration", "Size",
    "Model hash", "Model", "FP8 weight", "Cache FP16 weight for LoRA", "VAE hash", "VAE", "Variation seed",
    "Variation seed strength", "Seed resize from", "Denoising strength", "Conditional mask weight", "Clip skip",
    "ENSD", "Token merging ratio", "Token merging ratio hr", "Init image hash", "RNG", "Tiling",
)
MAX_INFOTEXT_CHARS = 64 * 1024
NEGATIVE_PREFIX = "Negative prompt:"

_IMAGE_SIZE = re.compile(r"(\d{1,9})x(\d{1,9})")
_EMPHASIS = re.compile(r"(?<!\\)[(\[]")
# Rule 6 defaults in A1111's order; "Hires resize-1/-2" and the conditional ones are handled in code.
_DEFAULTS: tuple[tuple[str, object], ...] = (
    ("Clip skip", "1"), ("Hires sampler", "Use same sampler"), ("Hires schedule type", "Use same scheduler"),
    ("Hires checkpoint", "Use same checkpoint"), ("Hires prompt", ""), ("Hires negative prompt", ""),
    ("Mask mode", "Inpaint masked"), ("Masked content", "original"), ("Inpaint area", "Whole picture"),
    ("Masked area padding", 32), ("RNG", "GPU"), ("Schedule type", "Automatic"), ("Schedule max sigma", 0),
    ("Schedule min sigma", 0), ("Schedule rho", 0), ("VAE Encoder", "Full"), ("VAE Decoder", "Full"),
    ("FP8 weight", "Disable"),
)


@dataclass(frozen=True)
class InfotextParts:
    """An infotext split into prompt, negative prompt and the parameter items in their written order."""

    prompt: str
    negative_prompt: str
    fields: tuple[tuple[str, str], ...]


def quote_value(value: object) -> str:
    """Return a value as written in the parameter line: JSON-quoted only if it contains `,`, newline or `:`.

    >>> quote_value(7), quote_value(7.0), quote_value("R-ESRGAN 4x+"), quote_value("add_detail: 7c6bad76eb54")
    ('7', '7.0', 'R-ESRGAN 4x+', '"add_detail: 7c6bad76eb54"')
    """
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(text, ensure_ascii=False)


def format_infotext(prompt: str, negative_prompt: str, fields: Sequence[tuple[str, object]]) -> str:
    """Return the A1111 infotext: prompt, optional `Negative prompt:` line, one parameter line; stripped.

    >>> format_infotext("a cat", "", [("Steps", 20), ("Sampler", "Euler a"), ("Seed", None), ("Tiling", "Tiling")])
    'a cat\\nSteps: 20, Sampler: Euler a, Tiling'
    """
    items = [key if key == value else f"{key}: {quote_value(value)}" for key, value in fields if value is not None]
    negative = f"\n{NEGATIVE_PREFIX} {negative_prompt}" if negative_prompt else ""
    return f"{prompt}{negative}\n{', '.join(items)}".strip()


def order_fields(fixed: Mapping[str, object], extra: Sequence[tuple[str, object]], version: str | None,
                 user: str | None = None) -> list[tuple[str, object]]:
    """Return fixed keys in PARAMETER_ORDER, then extras (replacing fixed values in place), Version, User.

    None values are dropped. Raises ValueError for a fixed key that is not in PARAMETER_ORDER.

    >>> order_fields({"Seed": 1, "Steps": 20}, [("Lora hashes", "x: 1"), ("Steps", 30)], "v")
    [('Steps', 30), ('Seed', 1), ('Lora hashes', 'x: 1'), ('Version', 'v')]
    """
    unknown = sorted(set(fixed) - set(PARAMETER_ORDER))
    if unknown:
        raise ValueError(f"not fixed infotext keys: {unknown}")
    merged = {key: fixed[key] for key in PARAMETER_ORDER if key in fixed}
    merged.update(extra)
    merged["Version"] = version
    merged["User"] = user
    return [(key, value) for key, value in merged.items() if value is not None]


def _is_key_char(c: str) -> bool:
    return c.isalnum() or c in "_ -/"


def _scan_tables(line: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """Per position: end of key-char run, first non-space, next comma, next unescaped quote (-1 if none)."""
    n = len(line)
    run_end, space_end, next_comma = [n] * (n + 1), [n] * (n + 1), [n] * (n + 1)
    close_quote = [-1] * (n + 2)
    for i in range(n - 1, -1, -1):
        c = line[i]
        run_end[i] = run_end[i + 1] if _is_key_char(c) else i
        space_end[i] = space_end[i + 1] if c.isspace() else i
        next_comma[i] = i if c == "," else next_comma[i + 1]
        if c == '"':
            close_quote[i] = i
        elif c == "\\":
            close_quote[i] = close_quote[i + 2] if i + 1 < n else -1
        else:
            close_quote[i] = close_quote[i + 1]
    return run_end, space_end, next_comma, close_quote


def split_parameter_line(line: str) -> list[tuple[str, str]]:
    """Return the raw (key, value) items of a parameter line; quoted values keep their quotes.

    Same result as `re.findall(r'\\s*(\\w[\\w \\-/]+):\\s*("(?:\\\\.|[^\\\\"])+"|[^,]*)(?:,|$)', line)`
    (A1111's item pattern) but in linear time, so hostile input cannot stall the reader.

    >>> split_parameter_line('Steps: 20, Lora hashes: "a: 1, b: 2", Size: 512x768')
    [('Steps', '20'), ('Lora hashes', '"a: 1, b: 2"'), ('Size', '512x768')]
    """
    run_end, space_end, next_comma, close_quote = _scan_tables(line)
    n, items, p = len(line), [], 0
    while p < n:
        q = space_end[p]
        if q >= n or not (line[q].isalnum() or line[q] == "_") or run_end[q + 1] == q + 1:
            p = q + 1
            continue
        r = run_end[q + 1]
        if r >= n or line[r] != ":":
            p = r
            continue
        v = space_end[r + 1]
        c = close_quote[v + 1] if v < n and line[v] == '"' else -1
        if c > v + 1 and (c + 1 == n or line[c + 1] == ","):
            items.append((line[q:r], line[v:c + 1]))
            p = c + 2
        else:
            items.append((line[q:r], line[v:next_comma[v]]))
            p = next_comma[v] + 1
    return items


def _unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _split_prompts(lines: list[str]) -> tuple[str, str]:
    prompt, negative, in_negative = "", "", False
    for line in lines:
        line = line.strip()
        if line.startswith(NEGATIVE_PREFIX):
            in_negative, line = True, line[len(NEGATIVE_PREFIX):].strip()
        if in_negative:
            negative += ("" if negative == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    return prompt, negative


def split_infotext(text: str) -> InfotextParts:
    """Split an infotext into prompt, negative prompt and decoded parameter items (A1111 rules 1–4).

    The last line is the parameter line only if it holds at least 3 items. Never raises; CRLF is read as LF
    and text beyond MAX_INFOTEXT_CHARS is ignored.

    >>> parts = split_infotext("a cat\\r\\nNegative prompt: dog\\nSteps: 20, Sampler: Euler, CFG scale: 7")
    >>> parts.prompt, parts.negative_prompt, parts.fields
    ('a cat', 'dog', (('Steps', '20'), ('Sampler', 'Euler'), ('CFG scale', '7')))
    >>> split_infotext("a cat\\nSteps: 20, Sampler: Euler").fields
    ()
    """
    text = text[:MAX_INFOTEXT_CHARS] if isinstance(text, str) else ""
    *lines, last = text.replace("\r\n", "\n").strip().split("\n")
    items = split_parameter_line(last)
    if len(items) < 3:
        lines.append(last)
        items = []
    prompt, negative = _split_prompts(lines)
    return InfotextParts(prompt, negative, tuple((key, _unquote(value)) for key, value in items))


def parse_infotext(text: str) -> dict[str, object]:
    """Read an infotext the way A1111's paste does: `Prompt`, `Negative prompt` and every parameter key.

    Values stay strings as A1111 returns them; `WxH` values are kept and also split into `<Key>-1`/`<Key>-2`
    ints; empty values are dropped; legacy sampler suffixes are split (rule 7) and rule 6 defaults filled in.
    Converting other values to numbers is the caller's job. Never raises.

    >>> info = parse_infotext("cabin\\nNegative prompt: blurry\\n"
    ...     "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x768, Hires steps: 10")
    >>> info["Prompt"], info["Negative prompt"], info["Steps"], info["Sampler"], info["Schedule type"]
    ('cabin', 'blurry', '25', 'DPM++ 2M', 'Automatic')
    >>> info["Size"], info["Size-1"], info["Size-2"], info["Clip skip"], info["RNG"]
    ('512x768', 512, 768, '1', 'GPU')
    """
    parts = split_infotext(text)
    res: dict[str, object] = {"Prompt": parts.prompt, "Negative prompt": parts.negative_prompt}
    for key, value in parts.fields:
        if value == "":
            continue  # A1111 skips empty values (its parser fails on them)
        res[key] = value
        size = _IMAGE_SIZE.fullmatch(value)
        if size is not None:
            res[f"{key}-1"], res[f"{key}-2"] = int(size[1]), int(size[2])
    _split_legacy_sampler(res)
    _apply_legacy_keys(res)
    _apply_defaults(res, parts)
    return res


def _split_legacy_sampler(res: dict[str, object]) -> None:
    name = res.get("Sampler")
    if not isinstance(name, str) or find_sampler(name) is not None:
        return
    stem, schedule = split_schedule_suffix(name)
    if schedule is None:
        return
    res["Sampler"] = stem
    res["Schedule type"] = "Automatic" if schedule.name == a1111_default_schedule(stem) else schedule.label


def _apply_legacy_keys(res: dict[str, object]) -> None:
    hypernet = res.get("Hypernet")
    if hypernet is not None:
        res["Prompt"] = f"{res['Prompt']}<hypernet:{hypernet}:{res.get('Hypernet strength', '1.0')}>"
    first_w, first_h = res.get("First pass size-1"), res.get("First pass size-2")
    if not isinstance(first_w, int) or not isinstance(first_h, int):
        return
    width, height = res.get("Size-1", 512), res.get("Size-2", 512)
    if not isinstance(width, int) or not isinstance(height, int):
        return
    if (first_w == 0 or first_h == 0) and width > 0 and height > 0:
        scale = math.sqrt(512 * 512 / (width * height))
        first_w, first_h = math.ceil(scale * width / 64) * 64, math.ceil(scale * height / 64) * 64
    res.update({"Size-1": first_w, "Size-2": first_h, "Hires resize-1": width, "Hires resize-2": height})


def _apply_defaults(res: dict[str, object], parts: InfotextParts) -> None:
    res.setdefault("Hires resize-1", 0)
    res.setdefault("Hires resize-2", 0)
    for key, value in _DEFAULTS:
        res.setdefault(key, value)
    if res["FP8 weight"] != "Disable":
        res.setdefault("Cache FP16 weight for LoRA", False)
    if _EMPHASIS.search(parts.prompt) or _EMPHASIS.search(parts.negative_prompt):
        res.setdefault("Emphasis", "Original")  # approximation: any unescaped ( or [ counts as emphasis
    res.setdefault("Refiner switch by sampling steps", False)
