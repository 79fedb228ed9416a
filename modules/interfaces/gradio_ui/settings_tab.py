"""The Settings tab: every setting grouped by section, saved to config.json with "Apply settings"."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.settings import SETTING_SPECS, SettingSpec

from .errors import shown_to_user

HIDDEN = {"sd_model_checkpoint", "sd_checkpoint_hash", "disabled_extensions", "enabled_extensions"}  # set elsewhere


def _component(spec: SettingSpec, value: object):
    kwargs = {"label": spec.label, "value": value, "elem_id": f"setting_{spec.key}"}
    if spec.choices:
        return gr.Dropdown(choices=list(spec.choices), **kwargs)
    if spec.kind is bool:
        return gr.Checkbox(**kwargs)
    if spec.kind in (int, float):
        return gr.Number(precision=0 if spec.kind is int else None, **kwargs)
    return gr.Textbox(**kwargs)


@dataclass(frozen=True)
class SettingsTab:
    """The setting components and the values this page last showed (what "changed" is measured against)."""

    components: dict[str, object]
    shown: gr.State

    def load_outputs(self) -> list:
        """Components that the page-load handler refreshes, in ``load_values`` order."""
        return [*self.components.values(), self.shown]

    def load_values(self, ctx: AppContext) -> list:
        """Current settings for every component, plus the snapshot of what is shown."""
        current = {key: ctx.settings.current().get(key) for key in self.components}
        return [*current.values(), current]


def build_settings_tab(ctx: AppContext) -> SettingsTab:
    """Lay out one group per section and wire the Apply button."""
    current = ctx.settings.current()
    specs = [s for s in SETTING_SPECS if s.key not in HIDDEN]
    components = {}
    apply = gr.Button("Apply settings", variant="primary", elem_id="settings_submit")
    result = gr.Markdown("", elem_id="settings_result")
    for section in dict.fromkeys(s.section for s in specs):
        with gr.Group():
            gr.Markdown(f"### {section}")
            for spec in (s for s in specs if s.section == section):
                components[spec.key] = _component(spec, current.get(spec.key))
    shown = gr.State({key: current.get(key) for key in components})
    keys = {id(comp): key for key, comp in components.items()}

    def apply_settings(values: dict):
        seen = values.pop(shown)
        submitted = {keys[id(comp)]: _typed(components, keys[id(comp)], value) for comp, value in values.items()}
        # only what the user edited here: settings changed elsewhere since the page loaded are left alone
        changes = {k: v for k, v in submitted.items() if seen.get(k) != v}
        shown_to_user(lambda: ctx.settings.update(changes))
        now = ctx.settings.current()
        message = f"{len(changes)} settings changed." if changes else "No settings changed."
        return message, {key: now.get(key) for key in components}

    apply.click(apply_settings, inputs={*components.values(), shown}, outputs=[result, shown])
    return SettingsTab(components=components, shown=shown)


def _typed(components: dict, key: str, value: object) -> object:
    spec = next(s for s in SETTING_SPECS if s.key == key)
    if spec.kind is int and value is not None:
        return int(value)
    if spec.kind is float and value is not None:
        return float(value)
    if spec.default is None and value == "":
        return None  # an empty text box shows an unset (null) setting; leave it unset
    return value
