"""The top bar: checkpoint and SD VAE dropdowns with refresh, a load status line, and the no-checkpoint notice."""
from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from modules.core.backend import LoadedCheckpoint
from modules.core.context import AppContext
from modules.core.errors import SettingLocked
from modules.core.vae_selection import AUTOMATIC, NONE

from .errors import shown_to_user
from .quick_settings import build_quick_settings, wire_quick_settings


@dataclass(frozen=True)
class ModelBar:
    """Components other parts of the page update."""

    checkpoint: gr.Dropdown
    vae: gr.Dropdown
    status: gr.Textbox
    notice: gr.Markdown
    quick: dict = field(default_factory=dict)
    """The other quick settings (``quicksettings_list``) by key."""


def checkpoint_choices(ctx: AppContext) -> tuple[list[str], str | None]:
    """Dropdown titles and the one to show as selected."""
    titles = [r.title for r in ctx.catalog.checkpoints()]
    loaded = ctx.models.loaded
    current = loaded.record.title if loaded else ctx.settings.current().get("sd_model_checkpoint")
    if current not in titles:
        current = titles[0] if titles else None
    return titles, current


def vae_choices(ctx: AppContext) -> tuple[list[str], str]:
    """SD VAE choices (Automatic, None, every VAE file name) and the current ``sd_vae`` setting."""
    current = str(ctx.settings.current().get("sd_vae") or AUTOMATIC)
    choices = list(dict.fromkeys([AUTOMATIC, NONE, *(r.filename for r in ctx.addons.vaes())]))
    if current not in choices:
        choices.append(current)  # a file that has gone stays visible rather than being silently replaced
    return choices, current


def notice_text(ctx: AppContext) -> str:
    """Where to put checkpoints, when there are none."""
    if ctx.catalog.checkpoints():
        return ""
    folders = ", ".join(f"`{p}`" for p in ctx.catalog.folders)
    return (f"**No checkpoint found.** Put a Stable Diffusion `.safetensors` (or `.ckpt`) file in {folders}, "
            "then press 🔄 next to the checkpoint list.")


def job_status_text(model_name: str, timings: tuple[tuple[str, float], ...]) -> str:
    """The status line after a job: where its time went (model load or switch, add-ons, total).

    >>> job_status_text("a", (("model", 0.004), ("VAE", 0.0), ("LoRA", 0.031), ("embeddings", 0.0), ("total", 2.5)))
    'a · model 0.00 s · LoRA 0.03 s · total 2.50 s'
    """
    parts = [f"{what} {seconds:.2f} s" for what, seconds in timings
             if what in ("model", "total") or seconds >= 0.005]
    return " · ".join([model_name, *parts])


def status_text(ctx: AppContext) -> str:
    """What the status line says before any selection on this page."""
    loaded = ctx.models.loaded
    return f"Loaded: {loaded.record.name}" if loaded else ""


def _switch_text(ctx: AppContext, loaded: LoadedCheckpoint, before: list[LoadedCheckpoint],
                 active: LoadedCheckpoint | None) -> str:
    name = loaded.record.name
    if loaded is active:
        return f"{name} is already loaded"
    if any(loaded is cached for cached in before):
        return f"Switched to {name} in {ctx.models.last_switch_seconds:.2f} s (cached)"
    return f"Loaded {name} in {loaded.load_seconds:.1f} s"


def select_checkpoint(ctx: AppContext, title: str | None) -> tuple[gr.Dropdown, str | gr.Textbox]:
    """Make ``title`` the active checkpoint; return the dropdown update and the status line."""
    if not title:
        return gr.Dropdown(), gr.Textbox()

    def load() -> str:
        reason = ctx.settings.frozen_reason("sd_model_checkpoint")
        if reason:
            raise SettingLocked(f"The checkpoint cannot be changed: {reason}")
        with ctx.generation.work_lock:
            before, active = ctx.models.cached(), ctx.models.loaded
            loaded = ctx.models.select_checkpoint(title)
            return _switch_text(ctx, loaded, before, active)
    status = shown_to_user(load)
    titles, current = checkpoint_choices(ctx)
    return gr.Dropdown(choices=titles, value=current), status


def refreshed_bar(ctx: AppContext) -> tuple[gr.Dropdown, gr.Dropdown, str]:
    """Dropdown updates for the checkpoint and VAE lists as last scanned, and the notice."""
    titles, current = checkpoint_choices(ctx)
    vaes, vae = vae_choices(ctx)
    return gr.Dropdown(choices=titles, value=current), gr.Dropdown(choices=vaes, value=vae), notice_text(ctx)


def _layout(ctx: AppContext) -> tuple[ModelBar, gr.Button]:
    with gr.Row(equal_height=True):
        checkpoint = gr.Dropdown(label="Stable Diffusion checkpoint", choices=[], value=None,
                                 elem_id="sd_model_checkpoint", scale=4,
                                 interactive=ctx.settings.frozen_reason("sd_model_checkpoint") is None)
        refresh = gr.Button("🔄", elem_id="refresh_sd_model_checkpoint", scale=0, min_width=40)
        vae = gr.Dropdown(label="SD VAE", choices=[AUTOMATIC, NONE], value=AUTOMATIC, elem_id="sd_vae", scale=2,
                          interactive=ctx.settings.frozen_reason("sd_vae") is None)
        quick = build_quick_settings(ctx)
    status = gr.Textbox("", show_label=False, container=False, interactive=False, max_lines=1,
                        placeholder="No checkpoint loaded yet", elem_id="model_status")
    notice = gr.Markdown("", elem_id="no_checkpoint_notice")
    return ModelBar(checkpoint=checkpoint, vae=vae, status=status, notice=notice, quick=quick), refresh


def build_model_bar(ctx: AppContext) -> ModelBar:
    """Lay out the bar and wire refresh and selection."""
    bar, refresh = _layout(ctx)

    def on_refresh():
        ctx.catalog.refresh()
        ctx.addons.refresh()
        return refreshed_bar(ctx)

    def on_vae(value: str | None):
        if not value:
            return gr.Textbox()
        shown_to_user(lambda: ctx.settings.update({"sd_vae": value}))
        return f"SD VAE: {value} (used from the next generation)"

    refresh.click(on_refresh, outputs=[bar.checkpoint, bar.vae, bar.notice])
    bar.checkpoint.input(lambda title: select_checkpoint(ctx, title), inputs=bar.checkpoint,
                         outputs=[bar.checkpoint, bar.status], concurrency_limit=1, concurrency_id="checkpoint")
    bar.vae.input(on_vae, inputs=bar.vae, outputs=bar.status, queue=False)
    wire_quick_settings(ctx, bar.quick, bar.status)
    return bar
