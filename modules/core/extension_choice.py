"""Which extensions the user wants on: the two settings lists, from the names ticked in the Extensions tab."""
from __future__ import annotations

from typing import Iterable

from .extensions import ExtensionRecord


def choice_settings(records: Iterable[ExtensionRecord], ticked: Iterable[str]) -> dict[str, list[str]]:
    """``{"enabled_extensions": [...], "disabled_extensions": [...]}``: off-by-default extensions that are
    ticked, and on-by-default ones that are not (A1111 keeps only the second list)."""
    wanted = set(ticked)
    choosable = [r for r in records if not r.builtin and r.loadable]
    return {"enabled_extensions": sorted(r.name for r in choosable if not r.enabled_by_default and r.name in wanted),
            "disabled_extensions": sorted(r.name for r in choosable if r.enabled_by_default and r.name not in wanted)}


def wanted_on(record: ExtensionRecord, enabled: Iterable[str], disabled: Iterable[str]) -> bool:
    """Whether the settings ask for this extension to be loaded (at the next start)."""
    if record.builtin:
        return True
    return record.name in set(enabled) or (record.enabled_by_default and record.name not in set(disabled))
