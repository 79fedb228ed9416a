"""UI hookspecs: extensions add tabs and generation controls. Kept free of gradio imports (extensions import it
through ``modules.extensions_api``); the callables they return build gradio components when called."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from modules.core.hooks import hookspec


@dataclass(frozen=True)
class UiTab:
    """A page tab: `build()` lays out its components inside the tab."""

    title: str
    build: Callable[[], None]
    elem_id: str = ""


@dataclass(frozen=True)
class ExtensionControls:
    """Controls shown in an accordion of the txt2img/img2img tab: `build()` returns ``{name: component}``; the
    values come back to the extension's hooks as ``request.extension_args[<extension name>][name]``."""

    title: str
    build: Callable[[], dict[str, Any]]


class UiHooks:
    """UI hooks."""

    @hookspec
    def ui_tabs(self, ctx):
        """Return a list of `UiTab` to add after the built-in tabs."""

    @hookspec
    def generation_controls(self, ctx, tab):
        """Return `ExtensionControls` for the ``"txt2img"`` or ``"img2img"`` tab, or None."""
