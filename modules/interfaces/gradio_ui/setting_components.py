"""One Gradio component per ``SettingSpec`` (Settings tab and quick settings alike) and the way back from a
component's value to the setting's type."""
from __future__ import annotations

from typing import Callable, Sequence

import gradio as gr

from modules.core.settings import SettingSpec

SLIDER_STEPS = {int: 1, float: 0.01}


def setting_component(spec: SettingSpec, value: object | Callable[[], object], *, elem_id: str,
                      locked_reason: str | None = None, keys: Sequence[str] = (), listed: Sequence[str] = (),
                      **layout) -> gr.components.Component:
    """The component for `spec`: a dropdown for choices (or the `listed` files, other names allowed), a multiselect
    for lists (of `keys`), a checkbox for switches, a slider for bounded numbers, a number box otherwise, else a
    text box; read-only when locked."""
    kwargs = {"label": spec.label, "value": value, "elem_id": elem_id, "interactive": locked_reason is None,
              "info": f"Locked: {locked_reason}" if locked_reason else None, **layout}
    if listed:
        return gr.Dropdown(choices=list(listed), allow_custom_value=True, **kwargs)
    if spec.choices:
        return gr.Dropdown(choices=list(spec.choices), **kwargs)
    if spec.kind is list:
        return gr.Dropdown(choices=list(keys), multiselect=True, allow_custom_value=True, **kwargs)
    if spec.kind is bool:
        return gr.Checkbox(**kwargs)
    if spec.kind in (int, float) and spec.minimum is not None and spec.maximum is not None:
        step = spec.step or SLIDER_STEPS[spec.kind]
        return gr.Slider(minimum=spec.minimum, maximum=spec.maximum, step=step, **kwargs)
    if spec.kind in (int, float):
        return gr.Number(precision=0 if spec.kind is int else None, minimum=spec.minimum, maximum=spec.maximum,
                         **kwargs)
    return gr.Textbox(**kwargs)


def setting_value(spec: SettingSpec, value: object) -> object:
    """A component's value as the setting's type (sliders give floats; an empty box leaves a null setting unset).

    >>> setting_value(SettingSpec("n", 1, "N", "S", int), 3.0), setting_value(SettingSpec("m", None, "M", "S", str), "")
    (3, None)
    """
    if spec.kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if spec.default is None and value == "":
        return None
    if spec.kind is list and isinstance(value, tuple):
        return list(value)
    return value
