""""Send to" buttons under the galleries: the selected image (default the first) and, for generation tabs, its
parameters read back from the image's infotext go to another tab, which is then shown."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import gradio as gr
from PIL import Image

from modules.core.infotext import parse_infotext

PARAMETER_KEYS = ("prompt", "negative_prompt", "steps", "sampler", "scheduler", "cfg_scale", "seed", "width",
                  "height")
"""Names of the target components ``infotext_parameters`` fills (A1111's paste fields for "Send to")."""

_INFOTEXT_KEYS = (("prompt", "Prompt", str), ("negative_prompt", "Negative prompt", str), ("steps", "Steps", int),
                  ("sampler", "Sampler", str), ("scheduler", "Schedule type", str), ("cfg_scale", "CFG scale", float),
                  ("seed", "Seed", int), ("width", "Size-1", int), ("height", "Size-2", int))


@dataclass(frozen=True)
class GallerySource:
    """A gallery with its send buttons, the selected index and (for generation tabs) each image's infotext."""

    gallery: gr.Gallery
    selected: gr.State
    infotexts: gr.State | None
    buttons: dict[str, gr.Button]


@dataclass(frozen=True)
class SendTarget:
    """Where sent things land: an image component, the page tab to show, and what else to set."""

    tab_id: str
    image: gr.components.Component | None = None
    parameters: dict[str, gr.components.Component] = field(default_factory=dict)
    extra_outputs: tuple[gr.components.Component, ...] = ()
    extra_values: Callable[[], tuple] = tuple
    """Values of ``extra_outputs`` (e.g. the sub-tab to select and the mode it stands for)."""


def build_send_buttons(c: dict, tab: str, targets: tuple[str, ...]) -> None:
    """A row of "Send to <target>" buttons in the current block, as ``c["send_to_<target>"]``, and the selection
    state ``c["selected"]`` (index of the image last clicked in the gallery)."""
    with gr.Row(elem_id=f"{tab}_send_to"):
        for target in targets:
            c[f"send_to_{target}"] = gr.Button(f"Send to {target}", elem_id=f"{tab}_send_to_{target}", size="sm")
    c["selected"] = gr.State(0)


def gallery_source(c: dict, targets: tuple[str, ...], *, with_infotexts: bool = True) -> GallerySource:
    """The source for ``wire_send_to``; ``c`` holds ``gallery``, ``selected``, the buttons and maybe ``infotexts``."""
    return GallerySource(gallery=c["gallery"], selected=c["selected"],
                         infotexts=c["infotexts"] if with_infotexts else None,
                         buttons={t: c[f"send_to_{t}"] for t in targets})


def selected_item(items: list | None, index: int | None) -> tuple[Image.Image | None, int]:
    """The chosen gallery image (the first if the index is out of range) and its index; (None, 0) if empty."""
    if not items:
        return None, 0
    index = index if isinstance(index, int) and 0 <= index < len(items) else 0
    item = items[index]
    image = item[0] if isinstance(item, (tuple, list)) else item
    if isinstance(image, str):
        image = Image.open(image)
    return image, index


def infotext_parameters(text: str | None) -> dict[str, object]:
    """The target-tab values found in an infotext (prompt, negative prompt, steps, sampler, schedule, CFG, seed,
    size); values that are missing or unreadable are left out.

    >>> infotext_parameters("cat\\nSteps: 12, Sampler: Euler a, CFG scale: 6.5, Seed: 9, Size: 64x96")["height"]
    96
    """
    if not text:
        return {}
    info = parse_infotext(text)
    values: dict[str, object] = {}
    for name, key, kind in _INFOTEXT_KEYS:
        if key not in info:
            continue
        try:
            values[name] = kind(info[key])
        except (TypeError, ValueError):
            continue
    if isinstance(values.get("cfg_scale"), float) and values["cfg_scale"].is_integer():
        values["cfg_scale"] = int(values["cfg_scale"])
    return values


def sent_values(target: SendTarget, items: list | None, index: int | None, infotexts: list[str] | None) -> list:
    """Output values for ``target``: image, page tab, extras, then each parameter (skipped when unknown)."""
    image, index = selected_item(items, index)
    text = infotexts[index] if infotexts and index < len(infotexts) else None
    params = infotext_parameters(text)
    values: list = [image] if target.image is not None else []
    values.append(gr.Tabs(selected=target.tab_id))
    values.extend(target.extra_values())
    values.extend(params.get(name, gr.skip()) for name in target.parameters)
    return values


def wire_send_to(source: GallerySource, targets: dict[str, SendTarget], page_tabs: gr.Tabs) -> None:
    """Track the selected image and wire each of the source's buttons to its target."""
    def remember(evt: gr.SelectData) -> int:
        return evt.index if isinstance(evt.index, int) else 0

    source.gallery.select(remember, outputs=source.selected, queue=False)
    source.gallery.change(lambda: 0, outputs=source.selected, queue=False)  # new results: the first is selected
    inputs = [source.gallery, source.selected] + ([source.infotexts] if source.infotexts is not None else [])
    for name, button in source.buttons.items():
        target = targets[name]
        outputs = ([target.image] if target.image is not None else []) + [page_tabs, *target.extra_outputs,
                                                                          *target.parameters.values()]

        def send(items, index, infotexts=None, target=target):
            return sent_values(target, items, index, infotexts)

        button.click(send, inputs=inputs, outputs=outputs, queue=False)
