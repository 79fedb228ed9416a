"""build_ui(ctx): the whole Gradio page."""
from __future__ import annotations

import gradio as gr

from modules.core.context import AppContext

from .model_bar import build_model_bar, checkpoint_choices, notice_text
from .settings_tab import build_settings_tab
from .txt2img_tab import build_txt2img_tab


def build_ui(ctx: AppContext) -> gr.Blocks:
    """The page: checkpoint bar, txt2img and Settings tabs; values refreshed on every page load."""
    with gr.Blocks(title="Stable Diffusion", analytics_enabled=False) as demo:
        bar = build_model_bar(ctx)
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("txt2img", id="txt2img"):
                txt2img = build_txt2img_tab(ctx, bar)
            with gr.Tab("Settings", id="settings"):
                build_settings_tab(ctx)

        def on_load():
            titles, current = checkpoint_choices(ctx)
            settings = ctx.settings.current()
            return (gr.Dropdown(choices=titles, value=current), notice_text(ctx),
                    settings.get("default_sampler"), settings.get("default_scheduler"),
                    settings.get("default_steps"))

        demo.load(on_load, outputs=[bar.checkpoint, bar.notice, txt2img.sampler, txt2img.scheduler,
                                    txt2img.steps], queue=False)
    return demo
