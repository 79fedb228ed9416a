"""``/sdapi/v1/scripts`` and ``script-info``: the built-in scripts (from the core registry), and which script a
generation request runs."""
from __future__ import annotations

from typing import Any, Callable

from modules.core.scripts.registry import script_info, script_titles

Routes = list[tuple[str, str, Callable]]
OUTPAINTING = ("poor man's outpainting", "outpainting mk2")
"""img2img scripts the request body applies itself (they only change the request: see img2img_schemas)."""


def script_names(*, img2img: bool) -> list[str]:
    """Lower-case titles of the selectable scripts of one tab."""
    return script_titles()["img2img" if img2img else "txt2img"]


def script_routes() -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for ``scripts`` and ``script-info``."""

    def scripts() -> dict[str, list[str]]:
        """Selectable script titles per tab (webuiapi looks for ``controlnet m2m`` here)."""
        return script_titles()

    def info() -> list[dict[str, Any]]:
        """Each selectable script with its arguments (label, default, bounds, choices) in ``script_args`` order."""
        return script_info()

    return [("GET", "/scripts", scripts), ("GET", "/script-info", info)]
