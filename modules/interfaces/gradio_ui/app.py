"""build_ui(ctx): the whole Gradio page."""
from __future__ import annotations

import gradio as gr

from modules.core.context import AppContext

from .extension_controls import build_extension_tabs
from .extensions_tab import build_extensions_tab
from .extra_networks import list_updates
from .extras_tab import build_extras_tab
from .img2img_tab import build_img2img_tab
from .merger_tab import build_merger_tab, refreshed_lists
from .model_bar import build_model_bar, refreshed_bar, status_text
from .page_assets import build_keyedit_options
from .page_links import wire_page_links
from .pnginfo_tab import build_pnginfo_tab
from .settings_tab import build_settings_tab
from .txt2img_tab import build_txt2img_tab
from .ui_config import apply_ui_config


def build_ui(ctx: AppContext) -> gr.Blocks:
    """The page: model bar, txt2img, img2img, Extras, Checkpoint Merger and Settings tabs; lists and defaults
    refreshed on every page load; "Send to" buttons move images and parameters between the tabs."""
    with gr.Blocks(title="Stable Diffusion", analytics_enabled=False) as demo:
        bar = build_model_bar(ctx)
        with gr.Tabs(elem_id="tabs") as page_tabs:
            with gr.Tab("txt2img", id="txt2img") as txt2img_page:
                txt2img = build_txt2img_tab(ctx, bar)
            with gr.Tab("img2img", id="img2img") as img2img_page:
                img2img = build_img2img_tab(ctx, bar)
            with gr.Tab("Extras", id="extras"):
                extras = build_extras_tab(ctx)
            with gr.Tab("PNG Info", id="pnginfo"):
                pnginfo = build_pnginfo_tab(ctx)
            with gr.Tab("Checkpoint Merger", id="modelmerger"):
                merger = build_merger_tab(ctx, bar.checkpoint)
            build_extension_tabs(ctx)
            with gr.Tab("Settings", id="settings"):
                settings_tab = build_settings_tab(ctx)
            with gr.Tab("Extensions", id="extensions"):
                build_extensions_tab(ctx)
        build_keyedit_options(ctx.settings)
        wire_page_links(ctx, page_tabs, txt2img, img2img, extras, pnginfo)
        ui_config = apply_ui_config(ctx.paths.ui_config_file, {"txt2img": txt2img_page, "img2img": img2img_page})

        def on_load():
            settings = ctx.settings.current()
            return (*refreshed_bar(ctx), status_text(ctx), *list_updates(ctx, ""),
                    *ui_config.generation_defaults("txt2img", settings),
                    *ui_config.generation_defaults("img2img", settings), *settings_tab.load_values(ctx),
                    *refreshed_lists(ctx))

        panel = txt2img.extra_networks
        demo.load(on_load, outputs=[bar.checkpoint, bar.vae, bar.notice, bar.status, *panel.lists, txt2img.sampler,
                                    txt2img.scheduler, txt2img.steps, img2img.sampler, img2img.scheduler,
                                    img2img.steps, *settings_tab.load_outputs(), *merger.lists], queue=False)
    return demo
