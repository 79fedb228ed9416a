"""Pasting generation parameters into a generation tab: the control values from ``core.paste_fields``, the
"Override settings" chips (``Clip skip: 2``…, and the checkpoint when the setting allows), and the "↙" button
that pastes from the prompt box or else from the tab's last generation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import gradio as gr

from modules.core.context import AppContext
from modules.core.errors import ModelNotFound
from modules.core.infotext import split_infotext
from modules.core.infotext_overrides import (CHECKPOINT_CHIP, overrides_from_chips, pasted_checkpoint,
                                             setting_overrides)
from modules.core.model_catalog import ModelRecord
from modules.core.paste_fields import PastedFields, read_pasted, unknown_names
from modules.core.settings import Settings

from .model_bar import checkpoint_choices

PASTE_SYMBOL = "\u2199\ufe0f"  # ↙️, A1111's "Read generation parameters from prompt or last generation"


@dataclass(frozen=True)
class PasteTarget:
    """A tab's controls by ``PastedFields`` name, its "Override settings" box and its infotext reading."""

    components: dict[str, gr.components.Component]
    override_settings: gr.Dropdown
    fields_of: Callable[[Mapping[str, object]], PastedFields]

    @property
    def outputs(self) -> list:
        """The components ``pasted_updates`` returns values for, in order."""
        return [*self.components.values(), self.override_settings]


def build_override_settings(c: dict, tab: str) -> None:
    """The (hidden while empty) "Override settings" chips box, as ``c["override_settings"]``."""
    c["override_settings"] = gr.Dropdown([], value=[], multiselect=True, label="Override settings", visible=False,
                                         elem_id=f"{tab}_override_settings")
    c["override_settings"].change(lambda chips: gr.Dropdown(visible=bool(chips)), inputs=c["override_settings"],
                                  outputs=c["override_settings"], queue=False)


def override_fields(chips: list[str] | None, settings: Settings) -> dict[str, object]:
    """Request fields from the chips: ``override_settings`` for this job, and ``checkpoint`` if one was pasted."""
    overrides = overrides_from_chips(chips, settings)
    checkpoint = overrides.pop("sd_model_checkpoint", None)
    return {"override_settings": overrides, **({"checkpoint": checkpoint} if checkpoint else {})}


def _choice_values(component: gr.components.Component) -> list | None:
    choices = getattr(component, "choices", None)
    if not isinstance(component, (gr.Dropdown, gr.Radio)) or choices is None:
        return None
    return [choice[1] if isinstance(choice, (tuple, list)) else choice for choice in choices]


def control_value(component: gr.components.Component, value: object) -> object:
    """What to set on ``component``: the value (index radios get their label; multiselect keeps known choices),
    or ``gr.skip()`` when there is none or a dropdown does not offer it."""
    if value is None:
        return gr.skip()
    allowed = _choice_values(component)
    if allowed is None:
        return value
    if isinstance(component, gr.Radio) and getattr(component, "type", None) == "index":
        index = int(value)
        return allowed[index] if 0 <= index < len(allowed) else gr.skip()
    if isinstance(value, (list, tuple)):
        return [v for v in value if v in allowed]
    if value in allowed or getattr(component, "allow_custom_value", False):
        return value
    gr.Warning(f"{value!r} is not available for {getattr(component, 'label', 'a control')}; it was left as it is")
    return gr.skip()


def _find(ctx: AppContext, alias: str | None) -> ModelRecord | None:
    try:
        return ctx.catalog.find(alias) if alias else None
    except ModelNotFound:
        return None


def _pasted_record(ctx: AppContext, model_hash: str | None, model: str | None) -> ModelRecord | None:
    """The checkpoint named by ``Model`` unless its known hash differs from ``Model hash``, else by the hash
    (the name first: copies of one file share a hash)."""
    by_name = _find(ctx, model)
    if by_name is not None and (not model_hash or not by_name.short_hash or by_name.short_hash == model_hash):
        return by_name
    return _find(ctx, model_hash)


def _checkpoint_chip(ctx: AppContext, info: Mapping[str, object], settings: Settings) -> list[str]:
    wanted = pasted_checkpoint(info, settings)
    if wanted is None:
        return []
    record = _pasted_record(ctx, *wanted)
    if record is None:
        model_hash, model = wanted
        gr.Warning(f"Checkpoint {model or ''} [{model_hash or ''}] from the parameters was not found; "
                   "the selected one is used")
        return []
    return [] if record.title == checkpoint_choices(ctx)[1] else [f"{CHECKPOINT_CHIP}: {record.title}"]


def pasted_updates(ctx: AppContext, target: PasteTarget, text: str | None,
                   image_size: tuple[int, int] | None = None) -> list:
    """Values for ``target.outputs`` from an infotext (everything skipped when there is none); ``image_size``
    replaces the infotext's size (an image sent to img2img keeps its own size, as A1111's ``send_size``)."""
    if not text:
        return [gr.skip()] * len(target.outputs)
    settings = ctx.settings.current()
    info = read_pasted(text, settings, ctx.styles.styles())
    pasted = target.fields_of(info)
    for message in unknown_names(info, pasted):
        gr.Warning(message)
    values = pasted.values()
    if image_size is not None:
        values["width"], values["height"] = image_size
    updates = [control_value(component, values.get(name)) for name, component in target.components.items()]
    chips = [o.chip for o in setting_overrides(info, settings)] + _checkpoint_chip(ctx, info, settings)
    return [*updates, gr.Dropdown(choices=chips, value=chips, visible=bool(chips))]


def paste_source(prompt: str | None, last_info: str | None) -> str | None:
    """The text "↙" reads: the prompt box if it holds generation parameters, else the last generation's.

    >>> paste_source("cat\\nSteps: 5, Sampler: Euler, Seed: 1", "old"), paste_source("cat", "dog\\nSteps: 5")
    ('cat\\nSteps: 5, Sampler: Euler, Seed: 1', 'dog\\nSteps: 5')
    """
    if prompt and split_infotext(prompt).fields:
        return prompt
    return last_info or None


def wire_paste_button(ctx: AppContext, c: dict, target: PasteTarget) -> None:
    """"↙" (``c["paste"]``) fills the tab from ``c["prompt"]`` or the last generation info ``c["info"]``."""
    def paste(prompt: str | None, last_info: str | None) -> list:
        text = paste_source(prompt, last_info)
        if text is None:
            gr.Info("No generation parameters in the prompt and no previous generation to read them from")
        return pasted_updates(ctx, target, text)

    c["paste"].click(paste, inputs=[c["prompt"], c["info"]], outputs=target.outputs)
