"""Connect the tabs' "Send to" buttons: which target each button name means on this page."""
from __future__ import annotations

import gradio as gr

from .extras_tab import ExtrasTab
from .img2img_tab import Img2ImgTab
from .send_to import SendTarget, wire_send_to
from .txt2img_tab import Txt2ImgTab


def send_targets(txt2img: Txt2ImgTab, img2img: Img2ImgTab, extras: ExtrasTab) -> dict[str, SendTarget]:
    """The page's targets by button name: img2img, inpaint, extras (image only) and txt2img (parameters only)."""
    return {
        "img2img": img2img.send_target("img2img"),
        "inpaint": img2img.send_target("inpaint"),
        "extras": SendTarget(tab_id="extras", image=extras.image, extra_outputs=(extras.mode, extras.source_tabs),
                             extra_values=lambda: ("single", gr.Tabs(selected="extras_single_tab"))),
        "txt2img": SendTarget(tab_id="txt2img", parameters=txt2img.parameters),
    }


def wire_page_links(page_tabs: gr.Tabs, txt2img: Txt2ImgTab, img2img: Img2ImgTab, extras: ExtrasTab) -> None:
    """Wire the send buttons under the txt2img, img2img and Extras galleries."""
    targets = send_targets(txt2img, img2img, extras)
    for source in (txt2img.send, img2img.send, extras.send):
        wire_send_to(source, targets, page_tabs)
