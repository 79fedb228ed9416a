"""Connect the "Send to" buttons of the galleries and of PNG Info: which target each button name means."""
from __future__ import annotations

import gradio as gr

from modules.core.context import AppContext

from .extras_tab import ExtrasTab
from .img2img_tab import Img2ImgTab
from .pnginfo_tab import PngInfoTab, wire_pnginfo_send
from .send_to import SendTarget, wire_send_to
from .txt2img_tab import Txt2ImgTab


def send_targets(txt2img: Txt2ImgTab, img2img: Img2ImgTab, extras: ExtrasTab) -> dict[str, SendTarget]:
    """The page's targets by button name: img2img, inpaint (image and parameters), extras (image only) and
    txt2img (parameters only)."""
    return {
        "img2img": img2img.send_target("img2img"),
        "inpaint": img2img.send_target("inpaint"),
        "extras": SendTarget(tab_id="extras", image=extras.image, extra_outputs=(extras.mode, extras.source_tabs),
                             extra_values=lambda: ("single", gr.Tabs(selected="extras_single_tab"))),
        "txt2img": SendTarget(tab_id="txt2img", paste=txt2img.paste),
    }


def wire_page_links(ctx: AppContext, page_tabs: gr.Tabs, txt2img: Txt2ImgTab, img2img: Img2ImgTab,
                    extras: ExtrasTab, pnginfo: PngInfoTab) -> None:
    """Wire the send buttons under the txt2img, img2img and Extras galleries and in PNG Info."""
    targets = send_targets(txt2img, img2img, extras)
    for source in (txt2img.send, img2img.send, extras.send):
        wire_send_to(ctx, source, targets, page_tabs)
    wire_pnginfo_send(ctx, pnginfo, targets, page_tabs)
