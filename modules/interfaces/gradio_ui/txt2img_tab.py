"""The txt2img tab, laid out like A1111: prompts on top, controls left, gallery and info right."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.paste_fields import txt2img_fields
from modules.core.params import Txt2ImgRequest
from modules.core.samplers import SAMPLERS, SCHEDULES
from modules.core.token_count import TokenCounter

from .errors import shown_to_user, shown_while_iterating
from .extension_controls import build_extension_controls
from .extra_networks import ExtraNetworks, build_extra_networks
from .gallery_tools import build_gallery_tools, wire_gallery_tools
from .hires_controls import HIRES_INPUTS, build_hires_controls, hires_fields, wire_hires_controls
from .job_progress import QUEUED_EVENTS, Finished, stream_with_progress
from .model_bar import ModelBar, checkpoint_choices, job_status_text
from .paste_params import PasteTarget, build_override_settings, override_fields, wire_paste_button
from .style_editor import build_style_editor, wire_style_editor
from .prompt_row import build_prompt_row, wire_prompt_row
from .script_controls import (build_script_controls, run_selected, script_input_keys, selected_script, ui_scripts,
                              wire_script_groups)
from .seed_controls import SEED_INPUTS, build_seed_controls, seed_fields, wire_seed_controls
from .send_to import GallerySource, build_send_buttons, gallery_source

SEND_TARGETS = ("img2img", "inpaint", "extras")
PASTE_FIELDS = (("prompt", "prompt"), ("negative_prompt", "negative_prompt"), ("styles", "styles"),
                ("steps", "steps"), ("sampler_name", "sampler"), ("scheduler", "scheduler"), ("cfg_scale", "cfg_scale"),
                ("seed", "seed"), ("width", "width"), ("height", "height"), ("batch_size", "batch_size"),
                ("subseed_show", "subseed_show"), ("subseed", "subseed"), ("subseed_strength", "subseed_strength"),
                ("seed_resize_from_w", "seed_resize_from_w"), ("seed_resize_from_h", "seed_resize_from_h"),
                ("enable_hr", "enable_hr"), ("denoising_strength", "hr_denoising_strength"), ("hr_scale", "hr_scale"),
                ("hr_upscaler", "hr_upscaler"), ("hr_second_pass_steps", "hr_second_pass_steps"),
                ("hr_resize_x", "hr_resize_x"), ("hr_resize_y", "hr_resize_y"),
                ("hr_checkpoint_name", "hr_checkpoint_name"), ("hr_sampler_name", "hr_sampler_name"),
                ("hr_scheduler", "hr_scheduler"), ("hr_prompt", "hr_prompt"),
                ("hr_negative_prompt", "hr_negative_prompt"))
"""(``PastedFields`` name, component name) pairs: what pasting an infotext fills (denoising is the hires pass's)."""


@dataclass(frozen=True)
class Txt2ImgTab:
    """Components other tabs and the page-load handler need."""

    prompt: gr.Textbox
    sampler: gr.Dropdown
    scheduler: gr.Dropdown
    steps: gr.Slider
    extra_networks: ExtraNetworks
    paste: PasteTarget
    """The controls "Send to txt2img" and "↙" fill from an infotext."""
    send: GallerySource


def _number(value: float) -> float | int:
    """Slider values that are whole numbers print as A1111's UI does (``CFG scale: 7``)."""
    return int(value) if float(value).is_integer() else float(value)


def _main_row(c: dict, ctx: AppContext) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            _controls(c, ctx)
            c["extensions"] = build_extension_controls(ctx, "txt2img")
        with gr.Column(scale=1):
            c["gallery"] = gr.Gallery(label="Output", elem_id="txt2img_gallery", columns=2, height=512, type="pil")
            build_send_buttons(c, "txt2img", SEND_TARGETS)
            build_gallery_tools(c, "txt2img")
            c["info"] = gr.Textbox(label="Generation info", lines=4, interactive=False,
                                   elem_id="txt2img_generation_info")
            c["infotexts"] = gr.State([])


def _controls(c: dict, ctx: AppContext) -> None:
    with gr.Row():
        c["sampler"] = gr.Dropdown(label="Sampling method", choices=[s.name for s in SAMPLERS],
                                   value="DPM++ 2M", elem_id="txt2img_sampling")
        c["scheduler"] = gr.Dropdown(label="Schedule type", choices=[s.label for s in SCHEDULES],
                                     value="Automatic", elem_id="txt2img_scheduler")
    c["steps"] = gr.Slider(1, 150, value=20, step=1, label="Sampling steps", elem_id="txt2img_steps")
    with gr.Row():
        c["width"] = gr.Slider(64, 2048, value=512, step=8, label="Width", elem_id="txt2img_width")
        c["height"] = gr.Slider(64, 2048, value=512, step=8, label="Height", elem_id="txt2img_height")
    build_hires_controls(c, ctx)
    with gr.Row():
        c["n_iter"] = gr.Slider(1, 100, value=1, step=1, label="Batch count", elem_id="txt2img_batch_count")
        c["batch_size"] = gr.Slider(1, 8, value=1, step=1, label="Batch size", elem_id="txt2img_batch_size")
    c["cfg_scale"] = gr.Slider(1, 30, value=7, step=0.5, label="CFG Scale", elem_id="txt2img_cfg_scale")
    build_seed_controls(c, "txt2img")
    build_script_controls(c, "txt2img")
    build_override_settings(c, "txt2img")


def _request(v: dict, extension_args: dict | None = None) -> Txt2ImgRequest:
    return Txt2ImgRequest(
        prompt=v["prompt"] or "", negative_prompt=v["negative_prompt"] or "", styles=tuple(v.get("styles") or ()),
        steps=int(v["steps"]),
        sampler_name=v["sampler"], scheduler=v["scheduler"], cfg_scale=_number(v["cfg_scale"]),
        width=int(v["width"]), height=int(v["height"]), batch_size=int(v["batch_size"]), n_iter=int(v["n_iter"]),
        source="ui", extension_args=extension_args or {}, **seed_fields(v), **hires_fields(v))


def build_txt2img_tab(ctx: AppContext, bar: ModelBar) -> Txt2ImgTab:
    """Lay out the tab and wire its events; the model bar shows the checkpoint a job loaded."""
    c: dict = {}
    counter = TokenCounter(models=ctx.models, settings=ctx.settings, styles=ctx.styles)
    build_prompt_row(c, "txt2img", [style.name for style in ctx.styles.styles()], counter)
    style_editor = build_style_editor(ctx, "txt2img")
    extra_networks = build_extra_networks(ctx, bar, c["prompt"])
    _main_row(c, ctx)
    inputs = {c[k] for k in ("prompt", "negative_prompt", "styles", "sampler", "scheduler", "steps", "width",
                             "height", "n_iter", "batch_size", "cfg_scale", "override_settings", *SEED_INPUTS,
                             *HIRES_INPUTS, "script", *script_input_keys(c))}
    inputs |= set(c["extensions"].components())
    names = {id(c[k]): k for k in c}

    def generate(values: dict, progress=gr.Progress()):
        v = {names[id(comp)]: value for comp, value in values.items() if id(comp) in names}
        request = shown_to_user(lambda: dataclasses.replace(
            _request(v, c["extensions"].args(values)), **override_fields(v["override_settings"],
                                                                          ctx.settings.current())))
        script = shown_to_user(lambda: selected_script(v, "txt2img"))
        work = (lambda: run_selected(ctx, script, request, v)) if script else lambda: ctx.generation.txt2img(request)
        for item in shown_while_iterating(stream_with_progress(ctx, work, progress, "txt2img")):
            if not isinstance(item, Finished):
                yield (gr.Gallery(value=[(item, "Preview")]), *[gr.skip()] * (len(outputs) - 1))
                continue
            yield finished(item.value)

    def finished(result):
        for warning in result.warnings:
            gr.Warning(warning)
        shown = result.gallery  # the grid first, when the job made one
        gallery = [(img.image, "Grid" if n < result.index_of_first_image else f"Seed {img.seed}")
                   for n, img in enumerate(shown)]
        infotexts = [img.infotext for img in shown]
        info = infotexts[0] if infotexts else ""
        titles, current = checkpoint_choices(ctx)
        status = job_status_text(result.model_name, result.timings)
        return (gallery, info, infotexts, result.seed, result.subseed,
                gr.Dropdown(choices=titles, value=current), status)

    outputs = [c["gallery"], c["info"], c["infotexts"], c["last_seed"], c["last_subseed"], bar.checkpoint,
               bar.status]
    c["generate"].click(generate, inputs=inputs, outputs=outputs, concurrency_limit=QUEUED_EVENTS, concurrency_id="gpu")
    c["prompt"].submit(generate, inputs=inputs, outputs=outputs, concurrency_limit=QUEUED_EVENTS, concurrency_id="gpu")
    wire_seed_controls(c)
    wire_gallery_tools(ctx, c, "txt2img")
    wire_script_groups(c, ui_scripts("txt2img"))
    wire_hires_controls(c)
    wire_prompt_row(ctx, c, counter)
    paste = PasteTarget(components={name: c[key] for name, key in PASTE_FIELDS},
                        override_settings=c["override_settings"], fields_of=txt2img_fields)
    wire_paste_button(ctx, c, paste)
    wire_style_editor(ctx, style_editor, prompt=c["prompt"], negative_prompt=c["negative_prompt"], styles=c["styles"])
    return Txt2ImgTab(prompt=c["prompt"], sampler=c["sampler"], scheduler=c["scheduler"], steps=c["steps"],
                      extra_networks=extra_networks, paste=paste, send=gallery_source(c, SEND_TARGETS))
