"""``/sdapi/v1/scripts`` and ``script-info``: the selectable scripts this build runs (img2img outpainting only)."""
from __future__ import annotations

from typing import Any, Callable

from modules.core.outpaint import DIRECTIONS

Routes = list[tuple[str, str, Callable]]


def _arg(label: str | None, value: Any, minimum: Any = None, maximum: Any = None, step: Any = None,
         choices: list[str] | None = None) -> dict[str, Any]:
    return {"label": label, "value": value, "minimum": minimum, "maximum": maximum, "step": step, "choices": choices}


_DIRECTIONS = list(DIRECTIONS)
# script_args positions, as img2img_schemas reads them (A1111's order).
IMG2IMG_SCRIPTS: dict[str, list[dict[str, Any]]] = {
    "poor man's outpainting": [
        _arg("Pixels to expand", 128, 8, 256, 8), _arg("Mask blur", 4, 0, 64, 1),
        _arg("Masked content", 0, choices=["fill", "original", "latent noise", "latent nothing"]),
        _arg("Outpainting direction", _DIRECTIONS, choices=_DIRECTIONS)],
    "outpainting mk2": [
        _arg(None, None), _arg("Pixels to expand", 128, 8, 256, 8), _arg("Mask blur", 8, 0, 64, 1),
        _arg("Outpainting direction", _DIRECTIONS, choices=_DIRECTIONS), _arg("Fall-off exponent", 1.0, 0.0, 4.0, 0.01),
        _arg("Color variation", 0.05, 0.0, 1.0, 0.01)],
}
TXT2IMG_SCRIPTS: dict[str, list[dict[str, Any]]] = {}


def script_names(*, img2img: bool) -> list[str]:
    """Lower-case titles of the selectable scripts of one tab."""
    return list(IMG2IMG_SCRIPTS if img2img else TXT2IMG_SCRIPTS)


def script_routes() -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for ``scripts`` and ``script-info``."""

    def scripts() -> dict[str, list[str]]:
        """Selectable script titles per tab (webuiapi looks for ``controlnet m2m`` here)."""
        return {"txt2img": script_names(img2img=False), "img2img": script_names(img2img=True)}

    def script_info() -> list[dict[str, Any]]:
        """Each selectable script with its arguments (label, default, bounds, choices)."""
        return [{"name": name, "is_alwayson": False, "is_img2img": is_img2img, "args": args}
                for is_img2img, table in ((False, TXT2IMG_SCRIPTS), (True, IMG2IMG_SCRIPTS))
                for name, args in table.items()]

    return [("GET", "/scripts", scripts), ("GET", "/script-info", script_info)]
