"""Which settings and pages the Settings tab shows for the chosen page and the search text."""
from __future__ import annotations

from typing import Iterable

from modules.core.settings import SettingSpec

ALL_PAGES = "Show all pages"


def matches(spec: SettingSpec, query: str) -> bool:
    """Whether the search text occurs (case-insensitively) in the setting's label or key; empty text matches all.

    >>> spec = SettingSpec("CLIP_stop_at_last_layers", 1, "Clip skip", "Stable Diffusion", int)
    >>> matches(spec, "clip SKIP"), matches(spec, "stop_at"), matches(spec, "vae")
    (True, True, False)
    """
    text = query.strip().lower()
    return not text or text in spec.label.lower() or text in spec.key.lower()


def shown_keys(specs: Iterable[SettingSpec], page: str | None, query: str) -> set[str]:
    """Keys to show: with search text, every match on any page (as A1111); otherwise the chosen page's, or all."""
    specs = list(specs)
    if query.strip():
        return {s.key for s in specs if matches(s, query)}
    return {s.key for s in specs if page in (None, ALL_PAGES) or s.section == page}


def shown_pages(specs: Iterable[SettingSpec], keys: set[str]) -> set[str]:
    """Sections (page labels) that hold at least one shown key."""
    return {s.section for s in specs if s.key in keys}
