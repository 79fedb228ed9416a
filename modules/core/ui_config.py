"""ui-config.json: A1111's defaults of UI components, keyed ``"<tab>/<label>/<field>"`` (``txt2img/Sampling
steps/value``, ``…/minimum``, ``…/maximum``, ``…/step``, ``…/visible``). Unknown keys are kept; missing keys are
added with the UI's built-in defaults; a corrupt file is moved to ``tmp/`` and the defaults are used."""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Mapping

from .atomic_files import move_aside, read_json_object, write_atomic

log = logging.getLogger(__name__)
FIELDS = ("visible", "value", "minimum", "maximum", "step")


def field_key(tab: str, label: str, field: str) -> str:
    """The file's key for one field of one component.

    >>> field_key("txt2img", "Sampling steps", "maximum")
    'txt2img/Sampling steps/maximum'
    """
    if field not in FIELDS:
        raise ValueError(f"unknown ui-config field {field!r}")
    return f"{tab}/{label}/{field}"


def load_ui_config(path: Path) -> dict:
    """The saved keys; {} for a missing file; a corrupt one is moved aside (with a warning) and {} returned."""
    data = read_json_object(path)
    if data is None:
        move_aside(path)
        return {}
    return data


def merged_with_defaults(saved: Mapping[str, object], defaults: Mapping[str, object]) -> dict:
    """`saved` (unknown keys kept, order kept) plus every default key it lacks, appended.

    >>> merged_with_defaults({"x/A/value": 3, "old/key/value": 1}, {"x/A/value": 2, "x/A/visible": True})
    {'x/A/value': 3, 'old/key/value': 1, 'x/A/visible': True}
    """
    merged = dict(saved)
    for key, value in defaults.items():
        merged.setdefault(key, value)
    return merged


def save_ui_config(path: Path, data: Mapping[str, object]) -> None:
    """Write the file atomically (4-space indent, UTF-8 as A1111); a failure is logged, not raised."""
    text = json.dumps(dict(data), indent=4, ensure_ascii=False)
    try:
        write_atomic(Path(path), text.encode("utf-8"))
    except OSError as exc:
        log.warning("Could not write %s: %s", path, exc)


def sync_ui_config(path: Path, defaults: Mapping[str, object]) -> dict:
    """Load the file, add the missing default keys (rewriting it only when some were missing) and return it all."""
    saved = load_ui_config(path)
    merged = merged_with_defaults(saved, defaults)
    if merged.keys() != saved.keys() or not Path(path).exists():
        save_ui_config(path, merged)
    return merged


def acceptable(field: str, value: object, default: object) -> bool:
    """Whether a value from the file fits the field (bounds: finite numbers; visible: a bool; value: the built-in
    default's type, whole or decimal numbers alike).

    >>> acceptable("value", 30, 20), acceptable("value", "many", 20), acceptable("maximum", True, 150)
    (True, False, False)
    """
    if field == "visible":
        return isinstance(value, bool)
    if field in ("minimum", "maximum", "step") or _is_number(default):
        return _is_number(value) and math.isfinite(value)  # type: ignore[arg-type]
    if default is None:
        return value is None or isinstance(value, str)
    return type(value) is type(default)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
