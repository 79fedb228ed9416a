"""The top bar: checkpoint dropdown with refresh, and the notice shown when no checkpoint exists."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext

from .errors import shown_to_user


@dataclass(frozen=True)
class ModelBar:
    """Components other parts of the page update."""

    checkpoint: gr.Dropdown
    notice: gr.Markdown


def checkpoint_choices(ctx: AppContext) -> tuple[list[str], str | None]:
    """Dropdown titles and the one to show as selected."""
    titles = [r.title for r in ctx.catalog.checkpoints()]
    loaded = ctx.models.loaded
    current = loaded.record.title if loaded else ctx.settings.current().get("sd_model_checkpoint")
    if current not in titles:
        current = titles[0] if titles else None
    return titles, current


def notice_text(ctx: AppContext) -> str:
    """Where to put checkpoints, when there are none."""
    if ctx.catalog.checkpoints():
        return ""
    folders = ", ".join(f"`{p}`" for p in ctx.catalog.folders)
    return (f"**No checkpoint found.** Put a Stable Diffusion `.safetensors` (or `.ckpt`) file in {folders}, "
            "then press 🔄 next to the checkpoint list.")


def build_model_bar(ctx: AppContext) -> ModelBar:
    """Lay out the bar and wire refresh and selection."""
    with gr.Row():
        checkpoint = gr.Dropdown(label="Stable Diffusion checkpoint", choices=[], value=None,
                                 elem_id="sd_model_checkpoint", scale=4, interactive=True)
        refresh = gr.Button("🔄", elem_id="refresh_sd_model_checkpoint", scale=0, min_width=40)
    notice = gr.Markdown("", elem_id="no_checkpoint_notice")

    def on_refresh():
        ctx.catalog.refresh()
        titles, current = checkpoint_choices(ctx)
        return gr.Dropdown(choices=titles, value=current), notice_text(ctx)

    def on_select(title: str | None):
        if not title:
            return gr.Dropdown()

        def load():
            with ctx.generation.work_lock:
                return ctx.models.select_checkpoint(title)
        loaded = shown_to_user(load)
        titles, _ = checkpoint_choices(ctx)
        return gr.Dropdown(choices=titles, value=loaded.record.title)

    refresh.click(on_refresh, outputs=[checkpoint, notice])
    checkpoint.input(on_select, inputs=checkpoint, outputs=checkpoint, concurrency_limit=1)
    return ModelBar(checkpoint=checkpoint, notice=notice)
