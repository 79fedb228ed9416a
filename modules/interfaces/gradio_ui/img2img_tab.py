"""The img2img tab: the shared prompt row, the layout of ``img2img_layout`` and its events; Generate builds an
``Img2ImgRequest`` per the selected sub-tab (``img2img_requests``) or runs the folder batch."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.paste_fields import img2img_fields
from modules.core.results import GenerationResult
from modules.core.token_count import TokenCounter

from .errors import shown_while_iterating
from .extension_controls import build_extension_controls
from .gallery_tools import wire_gallery_tools
from .img2img_batch_run import run_batch
from .img2img_layout import INPAINT_MODES, MODES, SCRIPTS, SEND_TARGETS, build_img2img_layout, mode_tab_id
from .img2img_requests import REQUEST_INPUTS, build_request
from .job_progress import QUEUED_EVENTS, Finished, stream_with_progress
from .model_bar import ModelBar, checkpoint_choices, job_status_text
from .paste_params import PasteTarget, override_fields, wire_paste_button
from .prompt_row import build_prompt_row, wire_prompt_row
from .seed_controls import wire_seed_controls
from .script_controls import run_selected, script_input_keys, selected_script, ui_scripts, wire_script_groups
from .send_to import GallerySource, SendTarget, gallery_source

PASTE_FIELDS = ("prompt", "negative_prompt", "styles", "steps", "sampler_name", "scheduler", "cfg_scale", "seed",
                "width", "height", "batch_size", "subseed_show", "subseed", "subseed_strength", "seed_resize_from_w",
                "seed_resize_from_h", "denoising_strength", "mask_blur", "inpainting_mask_invert", "inpainting_fill",
                "inpaint_full_res", "inpaint_full_res_padding")
"""``PastedFields`` names of the controls pasting an infotext fills (the component is ``c[name]``, but
``sampler_name`` is ``c["sampler"]``)."""


@dataclass(frozen=True)
class Img2ImgTab:
    """Components other tabs and the page-load handler need."""

    prompt: gr.Textbox
    sampler: gr.Dropdown
    scheduler: gr.Dropdown
    steps: gr.Slider
    paste: PasteTarget
    """The controls "Send to img2img/inpaint" and "↙" fill from an infotext."""
    send: GallerySource
    init_img: gr.Image
    inpaint: gr.ImageMask
    mode: gr.State
    mode_tabs: gr.Tabs
    inpaint_controls: gr.Group

    def send_target(self, mode: str) -> SendTarget:
        """Where "Send to img2img" (``mode`` "img2img") or "Send to inpaint" (``"inpaint"``) puts things."""
        image = self.init_img if mode == "img2img" else self.inpaint
        return SendTarget(tab_id="img2img", image=image, paste=self.paste,
                          extra_outputs=(self.mode, self.mode_tabs, self.inpaint_controls),
                          extra_values=lambda: _mode_updates(mode))


def _mode_updates(mode: str) -> tuple:
    """The mode state, the sub-tab to show and the inpaint options' visibility for ``mode``."""
    return mode, gr.Tabs(selected=mode_tab_id(mode)), gr.Group(visible=mode in INPAINT_MODES)


def generate_images(ctx: AppContext, v: dict) -> tuple[list[GenerationResult], tuple[str, ...]]:
    """Run the job of the selected sub-tab: one request (or the selected script), or one per image of the batch
    folder; pasted setting overrides (and checkpoint) apply to each."""
    extra = override_fields(v.get("override_settings"), ctx.settings.current())
    script = selected_script(v, "img2img")

    def run(request):
        return ctx.generation.img2img(dataclasses.replace(request, **extra))
    if v["mode"] == "batch":
        return run_batch(ctx, v, run)
    if script is not None:
        return [run_selected(ctx, script, dataclasses.replace(build_request(v), **extra), v)], ()
    return [run(build_request(v))], ()


def _wire_visibility(c: dict) -> None:
    for mode in MODES:
        c[f"tab_{mode}"].select(lambda m=mode: (m, gr.Group(visible=m in INPAINT_MODES)),
                                outputs=[c["mode"], c["inpaint_controls"]], queue=False)
    c["tab_resize_to"].select(lambda: "to", outputs=c["scale_mode"], queue=False)
    c["tab_resize_by"].select(lambda: "by", outputs=c["scale_mode"], queue=False)
    c["script"].change(lambda s: (gr.Group(visible=s in SCRIPTS[1:]), gr.Row(visible=s == SCRIPTS[2])),
                       inputs=c["script"], outputs=[c["outpaint_controls"], c["outpaint_mk2_controls"]],
                       queue=False)


def _wire_generate(ctx: AppContext, c: dict, bar: ModelBar) -> None:
    keys = (*REQUEST_INPUTS, *script_input_keys(c))
    names = {id(c[k]): k for k in keys}

    def generate(values: dict, progress=gr.Progress()):
        v = {names[id(comp)]: value for comp, value in values.items() if id(comp) in names}
        v["extension_args"] = c["extensions"].args(values)
        for item in shown_while_iterating(stream_with_progress(ctx, lambda: generate_images(ctx, v), progress,
                                                               "img2img")):
            if not isinstance(item, Finished):
                yield (gr.Gallery(value=[(item, "Preview")]), *[gr.skip()] * (len(outputs) - 1))
                continue
            yield finished(*item.value)

    def finished(results, skipped):
        for message in (*skipped, *(w for r in results for w in r.warnings)):
            gr.Warning(message)
        images = [img for r in results for img in r.gallery]  # each job's grid first, when it made one
        grids = {id(img) for r in results for img in r.gallery[:r.index_of_first_image]}
        first = results[0]
        titles, current = checkpoint_choices(ctx)
        return ([(img.image, "Grid" if id(img) in grids else f"Seed {img.seed}") for img in images],
                images[0].infotext if images else "",
                [img.infotext for img in images], first.seed, first.subseed,
                gr.Dropdown(choices=titles, value=current), job_status_text(first.model_name, first.timings))

    inputs = {c[k] for k in keys} | set(c["extensions"].components())
    outputs = [c["gallery"], c["info"], c["infotexts"], c["last_seed"], c["last_subseed"], bar.checkpoint,
               bar.status]
    for trigger in (c["generate"].click, c["prompt"].submit):
        trigger(generate, inputs=inputs, outputs=outputs, concurrency_limit=QUEUED_EVENTS, concurrency_id="gpu")


def build_img2img_tab(ctx: AppContext, bar: ModelBar) -> Img2ImgTab:
    """Lay out the tab and wire its events; the model bar shows the checkpoint a job loaded."""
    c: dict = {}
    counter = TokenCounter(models=ctx.models, settings=ctx.settings, styles=ctx.styles)
    build_prompt_row(c, "img2img", [style.name for style in ctx.styles.styles()], counter)
    build_img2img_layout(c, lambda: build_extension_controls(ctx, "img2img"))
    _wire_visibility(c)
    wire_script_groups(c, ui_scripts("img2img", skip=SCRIPTS))
    _wire_generate(ctx, c, bar)
    wire_seed_controls(c)
    wire_gallery_tools(ctx, c, "img2img")
    wire_prompt_row(ctx, c, counter)
    paste = PasteTarget(components={name: c["sampler" if name == "sampler_name" else name] for name in PASTE_FIELDS},
                        override_settings=c["override_settings"], fields_of=img2img_fields)
    wire_paste_button(ctx, c, paste)
    return Img2ImgTab(prompt=c["prompt"], sampler=c["sampler"], scheduler=c["scheduler"], steps=c["steps"],
                      paste=paste, send=gallery_source(c, SEND_TARGETS),
                      init_img=c["init_img"], inpaint=c["inpaint"], mode=c["mode"], mode_tabs=c["mode_tabs"],
                      inpaint_controls=c["inpaint_controls"])
