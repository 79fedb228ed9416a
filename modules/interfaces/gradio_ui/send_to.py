""""Send to" buttons under the galleries: the selected image (default the first) and, for generation tabs, all its
parameters read back from the image's infotext (``paste_params``) go to another tab, which is then shown."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr
from PIL import Image

from modules.core.context import AppContext

from .paste_params import PasteTarget, pasted_updates


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
    paste: PasteTarget | None = None
    """The generation controls the infotext fills (None: the image only)."""
    extra_outputs: tuple[gr.components.Component, ...] = ()
    extra_values: Callable[[], tuple] = tuple
    """Values of ``extra_outputs`` (e.g. the sub-tab to select and the mode it stands for)."""

    def outputs(self, page_tabs: gr.Tabs) -> list:
        """The components ``target_values`` sets: image (if any), page tabs, extra outputs, pasted controls."""
        image = [self.image] if self.image is not None else []
        return [*image, page_tabs, *self.extra_outputs, *(self.paste.outputs if self.paste is not None else ())]


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


def target_values(ctx: AppContext, target: SendTarget, image: object, text: str | None) -> list:
    """Output values for ``target`` (``[image], page tab, extras, pasted controls``); an image sent along keeps its
    own size in the target's width/height."""
    size = (image.width, image.height) if target.image is not None and isinstance(image, Image.Image) else None
    values: list = [image] if target.image is not None else []
    values.append(gr.Tabs(selected=target.tab_id))
    values.extend(target.extra_values())
    if target.paste is not None:
        values.extend(pasted_updates(ctx, target.paste, text, image_size=size))
    return values


def sent_values(ctx: AppContext, target: SendTarget, items: list | None, index: int | None,
                infotexts: list[str] | None) -> list:
    """``target_values`` for the selected gallery image and its infotext."""
    image, index = selected_item(items, index)
    text = infotexts[index] if infotexts and index < len(infotexts) else None
    return target_values(ctx, target, image, text)


def wire_send_to(ctx: AppContext, source: GallerySource, targets: dict[str, SendTarget],
                 page_tabs: gr.Tabs) -> None:
    """Track the selected image and wire each of the source's buttons to its target."""
    def remember(evt: gr.SelectData) -> int:
        return evt.index if isinstance(evt.index, int) else 0

    source.gallery.select(remember, outputs=source.selected, queue=False)
    source.gallery.change(lambda: 0, outputs=source.selected, queue=False)  # new results: the first is selected
    inputs = [source.gallery, source.selected] + ([source.infotexts] if source.infotexts is not None else [])
    for name, button in source.buttons.items():
        target = targets[name]

        def send(items, index, infotexts=None, target=target):
            return sent_values(ctx, target, items, index, infotexts)

        button.click(send, inputs=inputs, outputs=target.outputs(page_tabs))
