"""The page's own CSS and JavaScript (files under ``static/``) and the settings the JavaScript reads."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from modules.core.settings import SettingsStore

STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("keyedit.js", "shortcuts.js")
STYLESHEETS = ("style.css",)


@dataclass(frozen=True)
class PageAssets:
    """What ``gr.mount_gradio_app`` adds to the page: ``css`` and ``head`` HTML (inline scripts)."""

    css: str
    head: str


def page_assets() -> PageAssets:
    """Read the static files (at start-up, not at import)."""
    css = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    head = "\n".join(f"<script>\n{(STATIC / name).read_text(encoding='utf-8')}\n</script>" for name in SCRIPTS)
    return PageAssets(css=css, head=head)


def keyedit_options_html(settings: SettingsStore) -> str:
    """A hidden element carrying the prompt-editing settings to ``keyedit.js`` (read at every key press)."""
    current = settings.current()
    options = {"precisionAttention": current.get("keyedit_precision_attention"),
               "precisionExtra": current.get("keyedit_precision_extra"),
               "delimiters": current.get("keyedit_delimiters"), "move": current.get("keyedit_move")}
    return f'<div id="keyedit_options" data-options="{html.escape(json.dumps(options), quote=True)}"></div>'


def build_keyedit_options(settings: SettingsStore) -> gr.HTML:
    """The holder of ``keyedit_options_html``, refreshed on every page load (so saved settings apply)."""
    return gr.HTML(lambda: keyedit_options_html(settings), elem_id="keyedit_options_holder",
                   elem_classes=["keyedit-options"], js_on_load=None)
