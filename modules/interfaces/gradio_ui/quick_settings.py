"""Quick settings: the ``quicksettings_list`` entries shown in the top bar next to the checkpoint and VAE
dropdowns (which the bar always has); a change is saved at once, like "Apply settings" for that one key."""
from __future__ import annotations

import logging

import gradio as gr

from modules.core.context import AppContext
from modules.core.settings import Settings

from .errors import shown_to_user
from .setting_components import setting_component, setting_value

log = logging.getLogger(__name__)
IN_THE_BAR = ("sd_model_checkpoint", "sd_vae")
"""Keys the model bar always shows with its own dropdowns."""


def quick_keys(settings: Settings) -> list[str]:
    """The ``quicksettings_list`` keys the bar adds: known, not hidden, not already a model-bar dropdown."""
    keys = []
    for key in dict.fromkeys(settings.get("quicksettings_list", []) or []):
        spec = settings.specs.get(key)
        if spec is None:
            log.warning("quicksettings_list: unknown setting %r is not shown", key)
        elif not spec.hidden and key not in IN_THE_BAR:
            keys.append(key)
    return keys


def build_quick_settings(ctx: AppContext) -> dict[str, gr.components.Component]:
    """One component per quick setting in the current block, refreshed from the settings on every page load."""
    current = ctx.settings.current()
    components = {}
    for key in quick_keys(current):
        spec = current.specs[key]
        components[key] = setting_component(
            spec, lambda k=key: ctx.settings.current().get(k), elem_id=f"setting_{key}",
            locked_reason=ctx.settings.frozen_reason(key), keys=list(current.specs), scale=2, min_width=160)
    return components


def save_quick_setting(ctx: AppContext, key: str, value: object) -> str:
    """Save one quick setting (a WebUIError becomes the browser's error message); return the status line."""
    spec = ctx.settings.current().specs[key]
    typed = setting_value(spec, value)
    shown_to_user(lambda: ctx.settings.update({key: typed}))
    return f"{spec.label}: {typed} (saved)"


def wire_quick_settings(ctx: AppContext, components: dict, status: gr.Textbox) -> None:
    """Each quick setting saves itself when the user changes it and reports on the status line."""
    for key, component in components.items():
        component.input(lambda value, k=key: save_quick_setting(ctx, k, value), inputs=component, outputs=status,
                        queue=False, trigger_mode="always_last", preprocess=False)
