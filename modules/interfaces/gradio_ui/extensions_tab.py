"""The Extensions tab: what is installed, what loaded or failed and why, and which to load at the next start."""
from __future__ import annotations

import gradio as gr

from modules.core.context import AppContext
from modules.core.extension_choice import choice_settings, wanted_on

from .errors import shown_to_user

HEADERS = ["Extension", "Version", "Status", "Description"]
HOW_TO_ADD = ("To add an extension, copy its folder (with `extension.py`) into `extensions/` and restart. "
              "Installing from a URL is not offered: it would run code from the internet on this machine.")


def _status(record) -> str:
    if record.error:
        return f"error: {record.error}"
    if record.builtin:
        return "built in"
    return "loaded" if record.enabled else "off"


def _table(ctx: AppContext) -> list[list[str]]:
    return [[r.name, r.version, _status(r), r.description] for r in ctx.extensions.records()]


def _choices(ctx: AppContext) -> tuple[list[str], list[str]]:
    """Extensions the user can switch, and those the settings ask for."""
    settings = ctx.settings.current()
    enabled, disabled = settings.get("enabled_extensions"), settings.get("disabled_extensions")
    records = [r for r in ctx.extensions.records() if not r.builtin and r.loadable]
    return [r.name for r in records], [r.name for r in records if wanted_on(r, enabled, disabled)]


def build_extensions_tab(ctx: AppContext) -> None:
    """Lay out the tab (inside a ``gr.Tab``) and wire Apply."""
    gr.Markdown(HOW_TO_ADD)
    table = gr.Dataframe(value=_table(ctx), headers=HEADERS, interactive=False, wrap=True,
                         elem_id="extensions_installed_table")
    names, ticked = _choices(ctx)
    chosen = gr.CheckboxGroup(choices=names, value=ticked, label="Load at the next start",
                              elem_id="extensions_enabled")
    apply = gr.Button("Apply (restart the web UI to load or unload extensions)", elem_id="extensions_apply")
    result = gr.Markdown(elem_id="extensions_result")

    def save(ticked_names: list[str]):
        changes = choice_settings(ctx.extensions.records(), ticked_names or [])
        shown_to_user(lambda: ctx.settings.update(changes))
        return "Saved. Restart the web UI to apply.", _table(ctx)

    apply.click(save, inputs=chosen, outputs=[result, table], queue=False)
