"""The txt2img tab, laid out like A1111: prompts on top, controls left, gallery and info right."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.params import Txt2ImgRequest
from modules.core.results import GenerationResult
from modules.core.samplers import SAMPLERS, SCHEDULES
from modules.core.token_count import TokenCounter

from .errors import shown_to_user
from .extra_networks import ExtraNetworks, build_extra_networks
from .model_bar import ModelBar, checkpoint_choices, job_status_text
from .style_editor import build_style_editor, wire_style_editor
from .seed_controls import SEED_INPUTS, build_seed_controls, seed_fields, wire_seed_controls
from .token_counter import build_token_counter, wire_token_counter


@dataclass(frozen=True)
class Txt2ImgTab:
    """Components other tabs and the page-load handler need."""

    prompt: gr.Textbox
    sampler: gr.Dropdown
    scheduler: gr.Dropdown
    steps: gr.Slider
    extra_networks: ExtraNetworks


def _number(value: float) -> float | int:
    """Slider values that are whole numbers print as A1111's UI does (``CFG scale: 7``)."""
    return int(value) if float(value).is_integer() else float(value)


def _prompt_row(c: dict, style_names: list[str], counter: TokenCounter) -> None:
    with gr.Row():
        with gr.Column(scale=6):
            with gr.Column(elem_classes="prompt-with-counter"):
                c["prompt"] = gr.Textbox(label="Prompt", lines=3, placeholder="Prompt", elem_id="txt2img_prompt")
                c["token_counter"] = build_token_counter(counter, "txt2img_token_counter")
            with gr.Column(elem_classes="prompt-with-counter"):
                c["negative_prompt"] = gr.Textbox(label="Negative prompt", lines=2, placeholder="Negative prompt",
                                                  elem_id="txt2img_neg_prompt")
                c["negative_token_counter"] = build_token_counter(counter, "txt2img_negative_token_counter",
                                                                  negative=True)
        with gr.Column(scale=1, min_width=160):
            c["generate"] = gr.Button("Generate", variant="primary", elem_id="txt2img_generate")
            c["interrupt"] = gr.Button("Interrupt", elem_id="txt2img_interrupt")
            with gr.Row():
                c["styles"] = gr.Dropdown(label="Styles", choices=style_names, value=[], multiselect=True,
                                          elem_id="txt2img_styles", scale=4)
                c["styles_refresh"] = gr.Button("🔄", elem_id="txt2img_styles_refresh", scale=0, min_width=40)


def _main_row(c: dict) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            _controls(c)
        with gr.Column(scale=1):
            c["gallery"] = gr.Gallery(label="Output", elem_id="txt2img_gallery", columns=2, height=512)
            c["info"] = gr.Textbox(label="Generation info", lines=4, interactive=False,
                                   elem_id="txt2img_generation_info")


def _controls(c: dict) -> None:
    with gr.Row():
        c["sampler"] = gr.Dropdown(label="Sampling method", choices=[s.name for s in SAMPLERS],
                                   value="DPM++ 2M", elem_id="txt2img_sampling")
        c["scheduler"] = gr.Dropdown(label="Schedule type", choices=[s.label for s in SCHEDULES],
                                     value="Automatic", elem_id="txt2img_scheduler")
    c["steps"] = gr.Slider(1, 150, value=20, step=1, label="Sampling steps", elem_id="txt2img_steps")
    with gr.Row():
        c["width"] = gr.Slider(64, 2048, value=512, step=8, label="Width", elem_id="txt2img_width")
        c["height"] = gr.Slider(64, 2048, value=512, step=8, label="Height", elem_id="txt2img_height")
    with gr.Row():
        c["n_iter"] = gr.Slider(1, 100, value=1, step=1, label="Batch count", elem_id="txt2img_batch_count")
        c["batch_size"] = gr.Slider(1, 8, value=1, step=1, label="Batch size", elem_id="txt2img_batch_size")
    c["cfg_scale"] = gr.Slider(1, 30, value=7, step=0.5, label="CFG Scale", elem_id="txt2img_cfg_scale")
    build_seed_controls(c, "txt2img")


def _request(v: dict) -> Txt2ImgRequest:
    return Txt2ImgRequest(
        prompt=v["prompt"] or "", negative_prompt=v["negative_prompt"] or "", styles=tuple(v.get("styles") or ()),
        steps=int(v["steps"]),
        sampler_name=v["sampler"], scheduler=v["scheduler"], cfg_scale=_number(v["cfg_scale"]),
        width=int(v["width"]), height=int(v["height"]), batch_size=int(v["batch_size"]), n_iter=int(v["n_iter"]),
        source="ui", **seed_fields(v))


def _reloaded_styles(ctx: AppContext, chosen: list[str] | None) -> gr.Dropdown:
    """Read styles.csv again; keep the chosen styles that still exist."""
    ctx.styles.reload()
    names = [style.name for style in ctx.styles.styles()]
    return gr.Dropdown(choices=names, value=[n for n in chosen or () if n in names])


def _run_with_progress(ctx: AppContext, request: Txt2ImgRequest, progress: gr.Progress) -> GenerationResult:
    """Generate in a worker thread while this one reports steps and ETA to the browser."""
    box: dict = {}

    def work():
        try:
            box["result"] = ctx.generation.txt2img(request)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the UI thread below
            box["error"] = exc

    worker = threading.Thread(target=work, name="txt2img", daemon=True)
    worker.start()
    while worker.is_alive():
        snap = ctx.progress.snapshot()
        if snap.sampling_steps:
            desc = f"Step {snap.sampling_step}/{snap.sampling_steps}, ETA {snap.eta_relative:.0f}s"
            progress(snap.progress, desc=desc)
        else:
            progress(0.0, desc="Loading model..." if ctx.models.loaded is None else "Waiting...")
        worker.join(0.25)
    if "error" in box:
        raise box["error"]
    return box["result"]


def build_txt2img_tab(ctx: AppContext, bar: ModelBar) -> Txt2ImgTab:
    """Lay out the tab and wire its events; the model bar shows the checkpoint a job loaded."""
    c: dict = {}
    counter = TokenCounter(models=ctx.models, settings=ctx.settings, styles=ctx.styles)
    _prompt_row(c, [style.name for style in ctx.styles.styles()], counter)
    style_editor = build_style_editor(ctx, "txt2img")
    extra_networks = build_extra_networks(ctx, bar, c["prompt"])
    _main_row(c)
    inputs = {c[k] for k in ("prompt", "negative_prompt", "styles", "sampler", "scheduler", "steps", "width",
                             "height", "n_iter", "batch_size", "cfg_scale", *SEED_INPUTS)}
    names = {id(c[k]): k for k in c}

    def generate(values: dict, progress=gr.Progress()):
        v = {names[id(comp)]: value for comp, value in values.items()}
        result = shown_to_user(lambda: _run_with_progress(ctx, _request(v), progress))
        for warning in result.warnings:
            gr.Warning(warning)
        gallery = [(img.image, f"Seed {img.seed}") for img in result.images]
        info = result.infotexts[0] if result.infotexts else ""
        titles, current = checkpoint_choices(ctx)
        status = job_status_text(result.model_name, result.timings)
        return gallery, info, result.seed, result.subseed, gr.Dropdown(choices=titles, value=current), status

    outputs = [c["gallery"], c["info"], c["last_seed"], c["last_subseed"], bar.checkpoint, bar.status]
    c["generate"].click(generate, inputs=inputs, outputs=outputs, concurrency_limit=1, concurrency_id="gpu")
    c["prompt"].submit(generate, inputs=inputs, outputs=outputs, concurrency_limit=1, concurrency_id="gpu")
    c["interrupt"].click(lambda: ctx.progress.interrupt(), queue=False)
    wire_seed_controls(c)
    wire_style_editor(ctx, style_editor, prompt=c["prompt"], negative_prompt=c["negative_prompt"], styles=c["styles"])
    for box, display, negative in (("prompt", "token_counter", False),
                                   ("negative_prompt", "negative_token_counter", True)):
        wire_token_counter(counter, prompt=c[box], display=c[display], steps=c["steps"], styles=c["styles"],
                           negative=negative)
    c["styles_refresh"].click(lambda chosen: _reloaded_styles(ctx, chosen), inputs=c["styles"], outputs=c["styles"],
                              queue=False)
    return Txt2ImgTab(prompt=c["prompt"], sampler=c["sampler"], scheduler=c["scheduler"], steps=c["steps"],
                      extra_networks=extra_networks)
