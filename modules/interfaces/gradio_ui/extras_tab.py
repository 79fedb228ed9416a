"""The Extras tab: upscale one image, uploaded files or a folder, with up to two upscalers (A1111's layout)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest
from modules.core.image_input import open_image
from modules.core.postprocessing import ExtrasInput, ExtrasOptions

from .errors import shown_to_user
from .job_progress import QUEUED_EVENTS, run_with_progress
from .send_to import GallerySource, build_send_buttons, gallery_source

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
MODES = ("single", "files", "folder")
SEND_TARGETS = ("img2img", "inpaint")


@dataclass(frozen=True)
class ExtrasTab:
    """Components the page-load handler refreshes, and those "Send to extras" fills."""

    upscaler_1: gr.Dropdown
    upscaler_2: gr.Dropdown
    image: gr.Image
    mode: gr.State
    source_tabs: gr.Tabs
    send: GallerySource


def folder_images(folder: str) -> list[ExtrasInput]:
    """The images directly inside ``folder`` (by name), each named after its file; raise InvalidRequest if none."""
    root = Path(folder).expanduser()
    if not folder or not root.is_dir():
        raise InvalidRequest(f"Input directory not found: {folder}")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InvalidRequest(f"No images in {folder}")
    return [ExtrasInput(open_image(p), p.name) for p in files]


def collect_inputs(v: dict) -> list[ExtrasInput]:
    """The source images of the selected sub-tab (``v["mode"]`` is one of MODES)."""
    if v["mode"] == "single":
        if not v["image"]:
            raise InvalidRequest("Choose an image first")
        return [ExtrasInput(open_image(Path(v["image"])))]
    if v["mode"] == "files":
        paths = [Path(getattr(f, "name", f)) for f in v["files"] or ()]
        if not paths:
            raise InvalidRequest("Upload images first")
        return [ExtrasInput(open_image(p), p.name) for p in paths]
    return folder_images(v["input_dir"])


def extras_options(v: dict) -> ExtrasOptions:
    """The core options from the tab's controls."""
    return ExtrasOptions(
        resize_mode=int(v["resize_mode"]), upscaling_resize=float(v["upscaling_resize"]),
        upscaling_resize_w=int(v["upscaling_resize_w"]), upscaling_resize_h=int(v["upscaling_resize_h"]),
        upscaling_crop=bool(v["upscaling_crop"]), upscaler_1=v["upscaler_1"] or "None",
        upscaler_2=v["upscaler_2"] or "None", upscaler_2_visibility=float(v["upscaler_2_visibility"]))


def run_extras(ctx: AppContext, v: dict) -> tuple[list, str]:
    """Process and save; return the gallery items and the HTML info (A1111 hides folder results on request)."""
    output_dir = (v.get("output_dir") or "").strip() if v["mode"] == "folder" else ""
    result = ctx.extras.run(extras_options(v), collect_inputs(v), save=True, output_dir=output_dir or None)
    hide = v["mode"] == "folder" and not v.get("show_extras_results", True)
    return ([] if hide else [o.image for o in result.outputs]), result.html_info


def _sources(c: dict) -> None:
    with gr.Tabs(elem_id="mode_extras") as c["source_tabs"]:
        with gr.Tab("Single Image", id="extras_single_tab") as c["tab_single"]:
            # the uploaded file itself (no mode conversion), so its `parameters` chunk survives
            c["image"] = gr.Image(label="Source", type="filepath", image_mode=None, elem_id="extras_image")
        with gr.Tab("Batch Process", id="extras_batch_process_tab") as c["tab_files"]:
            c["files"] = gr.File(label="Batch Process", file_count="multiple", elem_id="extras_image_batch")
        with gr.Tab("Batch from Directory", id="extras_batch_directory_tab") as c["tab_folder"]:
            c["input_dir"] = gr.Textbox(label="Input directory", elem_id="extras_batch_input_dir")
            c["output_dir"] = gr.Textbox(label="Output directory (inside the data folder; empty = default)",
                                         elem_id="extras_batch_output_dir")
            c["show_extras_results"] = gr.Checkbox(label="Show result images", value=True,
                                                   elem_id="extras_show_extras_results")


def _upscale_controls(c: dict, names: list[str]) -> None:
    with gr.Tabs(elem_id="extras_resize_mode"):
        with gr.Tab("Scale by", id="extras_scale_by_tab") as c["tab_scale_by"]:
            c["upscaling_resize"] = gr.Slider(1.0, 8.0, value=4, step=0.05, label="Resize",
                                              elem_id="extras_upscaling_resize")
        with gr.Tab("Scale to", id="extras_scale_to_tab") as c["tab_scale_to"]:
            with gr.Row():
                c["upscaling_resize_w"] = gr.Slider(64, 8192, value=512, step=8, label="Width",
                                                    elem_id="extras_upscaling_resize_w")
                c["upscaling_resize_h"] = gr.Slider(64, 8192, value=512, step=8, label="Height",
                                                    elem_id="extras_upscaling_resize_h")
                c["upscaling_crop"] = gr.Checkbox(label="Crop to fit", value=True, elem_id="extras_upscaling_crop")
    with gr.Row():
        c["upscaler_1"] = gr.Dropdown(label="Upscaler 1", choices=names, value="None", elem_id="extras_upscaler_1")
        c["upscaler_2"] = gr.Dropdown(label="Upscaler 2", choices=names, value="None", elem_id="extras_upscaler_2")
        c["refresh"] = gr.Button("🔄", scale=0, min_width=40, elem_id="extras_upscalers_refresh")
    c["upscaler_2_visibility"] = gr.Slider(0.0, 1.0, value=0.0, step=0.001, label="Upscaler 2 visibility",
                                           elem_id="extras_upscaler_2_visibility")


def _layout(ctx: AppContext) -> dict:
    c: dict = {"mode": gr.State("single"), "resize_mode": gr.State(0)}
    with gr.Row():
        with gr.Column(scale=1):
            _sources(c)
            c["generate"] = gr.Button("Generate", variant="primary", elem_id="extras_generate")
            _upscale_controls(c, ctx.upscalers.names())
        with gr.Column(scale=1):
            c["gallery"] = gr.Gallery(label="Result", columns=2, height=512, elem_id="extras_gallery", type="pil")
            build_send_buttons(c, "extras", SEND_TARGETS)
            c["html_info"] = gr.HTML(elem_id="html_info_extras")
    return c


def _refreshed(ctx: AppContext, first: str, second: str) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Rescan the upscaler folders; keep each choice if it still exists."""
    ctx.upscalers.refresh()
    names = ctx.upscalers.names()
    return tuple(gr.Dropdown(choices=names, value=v if v in names else "None") for v in (first, second))


def build_extras_tab(ctx: AppContext) -> ExtrasTab:
    """Lay out the tab and wire its events."""
    c = _layout(ctx)
    for mode in MODES:
        c[f"tab_{mode}"].select(lambda m=mode: m, outputs=c["mode"], queue=False)
    c["tab_scale_by"].select(lambda: 0, outputs=c["resize_mode"], queue=False)
    c["tab_scale_to"].select(lambda: 1, outputs=c["resize_mode"], queue=False)
    keys = ("mode", "image", "files", "input_dir", "output_dir", "show_extras_results", "resize_mode",
            "upscaling_resize", "upscaling_resize_w", "upscaling_resize_h", "upscaling_crop", "upscaler_1",
            "upscaler_2", "upscaler_2_visibility")
    names = {id(c[k]): k for k in keys}

    def generate(values: dict, progress=gr.Progress()):
        v = {names[id(comp)]: value for comp, value in values.items()}
        return shown_to_user(lambda: run_with_progress(ctx, lambda: run_extras(ctx, v), progress, "extras"))

    c["generate"].click(generate, inputs={c[k] for k in keys}, outputs=[c["gallery"], c["html_info"]],
                        concurrency_limit=QUEUED_EVENTS, concurrency_id="gpu")
    c["refresh"].click(lambda a, b: _refreshed(ctx, a, b), inputs=[c["upscaler_1"], c["upscaler_2"]],
                       outputs=[c["upscaler_1"], c["upscaler_2"]], queue=False)
    return ExtrasTab(upscaler_1=c["upscaler_1"], upscaler_2=c["upscaler_2"], image=c["image"], mode=c["mode"],
                     source_tabs=c["source_tabs"], send=gallery_source(c, SEND_TARGETS, with_infotexts=False))
