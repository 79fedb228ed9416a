"""Apply ui-config.json to the txt2img and img2img tabs: walk each tab's labelled input components, add their
built-in defaults to the file, then set ``value``, ``visible`` and slider ``minimum``/``maximum``/``step`` from it.

The page-load handler also sets sampling method, schedule type and steps from the ``default_*`` settings; for those a
ui-config value that differs from the built-in default wins (A1111: the file decides a field's value)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

import gradio as gr

from modules.core.settings import Settings
from modules.core.ui_config import acceptable, field_key, sync_ui_config

log = logging.getLogger(__name__)
VALUE_COMPONENTS = (gr.Slider, gr.Number, gr.Textbox, gr.Checkbox, gr.Dropdown, gr.Radio, gr.CheckboxGroup)
SLIDER_FIELDS = ("minimum", "maximum", "step")
SETTING_DEFAULTS = (("Sampling method", "default_sampler"), ("Schedule type", "default_scheduler"),
                    ("Sampling steps", "default_steps"))
"""Fields whose page-load value comes from a setting unless ui-config.json changed it."""


def labelled_components(block: gr.blocks.BlockContext) -> Iterator[tuple[str, gr.components.Component]]:
    """(label, component) for each interactive input component under `block`; a repeated label counts once."""
    seen: set[str] = set()
    stack = list(reversed(getattr(block, "children", [])))
    while stack:
        child = stack.pop()
        stack.extend(reversed(getattr(child, "children", [])))
        label = getattr(child, "label", None)
        if not isinstance(child, VALUE_COMPONENTS) or not label or child.interactive is False:
            continue
        if label in seen:
            log.debug("ui-config: a second %r in one tab is left out", label)
            continue
        seen.add(label)
        yield str(label), child


def component_fields(component: gr.components.Component) -> dict[str, object]:
    """The ui-config fields of one component and their built-in values."""
    value = "" if isinstance(component, gr.Textbox) and component.value is None else component.value
    fields = {"visible": component.visible is not False, "value": value}
    if isinstance(component, gr.Slider):
        fields.update({name: getattr(component, name) for name in SLIDER_FIELDS})
    return fields


def _choice_ok(component: gr.components.Component, value: object) -> bool:
    choices = getattr(component, "choices", None)
    if not choices:
        return True
    allowed = {c[1] if isinstance(c, (tuple, list)) else c for c in choices}
    return all(v in allowed for v in value) if isinstance(value, list) else value in allowed


@dataclass(frozen=True)
class AppliedUiConfig:
    """What the file changed: keys whose value differs from the built-in default (the user's own)."""

    changed: Mapping[str, object]

    def generation_defaults(self, tab: str, settings: Settings) -> tuple:
        """Sampling method, schedule type and steps for the page-load handler: the file's value if the user changed
        it there, else the ``default_*`` setting."""
        return tuple(self.changed.get(field_key(tab, label, "value"), settings.get(key))
                     for label, key in SETTING_DEFAULTS)


def apply_ui_config(path: Path, tabs: Mapping[str, gr.blocks.BlockContext]) -> AppliedUiConfig:
    """Sync the file with the tabs' built-in defaults and apply its values; bad values are logged and skipped."""
    targets = {field_key(tab, label, name): (component, name, value)
               for tab, block in tabs.items() for label, component in labelled_components(block)
               for name, value in component_fields(component).items()}
    data = sync_ui_config(path, {key: value for key, (_, _, value) in targets.items()})
    changed = {}
    for key, (component, name, default) in targets.items():
        value = data.get(key, default)
        if value == default:
            continue
        if not acceptable(name, value, default) or (name == "value" and not _choice_ok(component, value)):
            log.warning("ui-config: ignoring %s = %r (not a valid %s)", key, value, name)
            continue
        setattr(component, name, component.postprocess(value) if name == "value" else value)
        changed[key] = value
    return AppliedUiConfig(changed=changed)
