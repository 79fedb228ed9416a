"""The PNG Info tab: drop a PNG, JPEG or WEBP to see its generation parameters and other text (escaped, never
rendered as HTML), and send the image and its parameters to txt2img, img2img, inpaint or Extras."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Mapping

import gradio as gr
from PIL import Image

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest
from modules.core.png_info import read_image_info

from .send_to import SendTarget, target_values

SEND_TARGETS = ("txt2img", "img2img", "inpaint", "extras")
MAX_SHOWN_CHARS = 64 * 1024
"""Longer text items are cut in the display (the parameters sent on are not)."""
_TEXT = '<p class="pnginfo-text" style="white-space: pre-wrap">'


@dataclass(frozen=True)
class PngInfoTab:
    """The dropped image, its parameters text, and the send buttons by target name."""

    image: gr.Image
    parameters: gr.Textbox
    buttons: dict[str, gr.Button]


def _shown(text: str) -> str:
    cut = text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "\n… (cut)"
    return html.escape(cut, quote=True)


def info_html(parameters: str | None, items: Mapping[str, str]) -> str:
    """The display: the parameters first, then each other item under its name; every text escaped.

    >>> info_html("<b>cat</b>", {}).replace(_TEXT, "<p>")
    '<div class="pnginfo"><h4>parameters</h4><p>&lt;b&gt;cat&lt;/b&gt;</p></div>'
    """
    entries = ([("parameters", parameters)] if parameters else []) + list(items.items())
    if not entries:
        return '<div class="pnginfo"><p>No generation parameters or other text found in this image.</p></div>'
    body = "".join(f"<h4>{_shown(key)}</h4>{_TEXT}{_shown(value)}</p>" for key, value in entries)
    return f'<div class="pnginfo">{body}</div>'


def read_for_display(path: str | None) -> tuple[str, str]:
    """(HTML to show, parameters text or "") for the dropped file; an unreadable file gives a message."""
    if not path:
        return "", ""
    try:
        parameters, items = read_image_info(path)
    except InvalidRequest as exc:
        return f'<div class="pnginfo"><p>{_shown(str(exc))}</p></div>', ""
    return info_html(parameters, items), parameters or ""


def _image_for(target: SendTarget, path: str | None) -> object:
    """Extras takes the file itself (its text chunks survive); the img2img editors take a Pillow image."""
    if not path or target.tab_id == "extras":
        return path
    with Image.open(path) as image:
        image.load()
        return image.copy()


def pnginfo_send_values(ctx: AppContext, target: SendTarget, path: str | None, text: str | None) -> list:
    """``send_to.target_values`` for the dropped file and its parameters."""
    return target_values(ctx, target, _image_for(target, path), text or None)


def build_pnginfo_tab(ctx: AppContext) -> PngInfoTab:
    """Lay out the tab and show the metadata of each dropped image; the send buttons are wired by the page."""
    with gr.Row(equal_height=False):
        with gr.Column(variant="panel"):
            image = gr.Image(label="Source", type="filepath", image_mode=None, sources=("upload", "clipboard"),
                             elem_id="pnginfo_image", height=480)
        with gr.Column(variant="panel"):
            shown = gr.HTML(elem_id="pnginfo_html")
            parameters = gr.Textbox(visible=False, elem_id="pnginfo_generation_info")
            with gr.Row(elem_id="pnginfo_send_to"):
                buttons = {t: gr.Button(f"Send to {t}", elem_id=f"pnginfo_send_to_{t}", size="sm",
                                     min_width=100)
                           for t in SEND_TARGETS}
    image.change(read_for_display, inputs=image, outputs=[shown, parameters], queue=False)
    return PngInfoTab(image=image, parameters=parameters, buttons=buttons)


def wire_pnginfo_send(ctx: AppContext, tab: PngInfoTab, targets: dict[str, SendTarget], page_tabs: gr.Tabs) -> None:
    """Each "Send to" button sends the dropped image and its parameters to its target and shows that tab."""
    for name, button in tab.buttons.items():
        target = targets[name]

        def send(path, text, target=target):
            return pnginfo_send_values(ctx, target, path, text)

        button.click(send, inputs=[tab.image, tab.parameters], outputs=target.outputs(page_tabs))
