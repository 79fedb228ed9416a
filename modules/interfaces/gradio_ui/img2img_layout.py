"""Layout of the img2img tab, as A1111's: prompt row on top; sub-tabs with the image sources, resize, sampling,
denoising, seed, inpaint and script controls on the left; gallery, "Send to" buttons and info on the right."""
from __future__ import annotations

from typing import Callable

import gradio as gr

from modules.core.outpaint import DIRECTIONS
from modules.core.params import UI_IMG2IMG_DEFAULTS
from modules.core.samplers import SAMPLERS, SCHEDULES

from .gallery_tools import build_gallery_tools
from .paste_params import build_override_settings
from .script_controls import build_script_groups, ui_scripts
from .seed_controls import build_seed_controls
from .send_to import build_send_buttons

MODES = ("img2img", "sketch", "inpaint", "inpaint_sketch", "inpaint_upload", "batch")
"""The sub-tabs, in A1111's order; ``c["mode"]`` holds the one last selected."""
MODE_LABELS = ("img2img", "Sketch", "Inpaint", "Inpaint sketch", "Inpaint upload", "Batch")
INPAINT_MODES = ("inpaint", "inpaint_sketch", "inpaint_upload", "batch")
"""Sub-tabs that show the inpaint options (batch: used when a mask folder is given)."""
RESIZE_MODES = ("Just resize", "Crop and resize", "Resize and fill", "Just resize (latent upscale)")
MASK_MODES = ("Inpaint masked", "Inpaint not masked")
MASKED_CONTENT = ("fill", "original", "latent noise", "latent nothing")
INPAINT_AREAS = ("Whole picture", "Only masked")
SCRIPTS = ("None", "Poor man's outpainting", "Outpainting mk2")
SEND_TARGETS = ("img2img", "inpaint", "extras", "txt2img")
SKETCH_COLORS = ["#000000", "#ffffff", "#cc3232", "#32cc70", "#3270cc", "#ccc832", "#ad32cc"]


def mode_tab_id(mode: str) -> str:
    """The ``gr.Tab`` id of a sub-tab (``img2img_<mode>_tab``), which "Send to" selects."""
    return f"img2img_{mode}_tab"


def _editor(elem_id: str, label: str, *, colors: list[str] | None) -> gr.ImageEditor:
    brush = gr.Brush(colors=colors, color_mode="defaults") if colors else gr.Brush(colors=["#ffffff"],
                                                                                   color_mode="fixed")
    return gr.ImageEditor(label=label, type="pil", image_mode="RGBA", brush=brush, elem_id=elem_id, height=480,
                          sources=("upload", "clipboard"), layers=False, transforms=())


def _sources(c: dict) -> None:
    c["mode"] = gr.State("img2img")
    with gr.Tabs(elem_id="mode_img2img") as c["mode_tabs"]:
        with gr.Tab("img2img", id=mode_tab_id("img2img")) as c["tab_img2img"]:
            c["init_img"] = gr.Image(label="Image for img2img", type="pil", image_mode="RGBA", height=480,
                                     elem_id="img2img_image")
        with gr.Tab("Sketch", id=mode_tab_id("sketch")) as c["tab_sketch"]:
            c["sketch"] = _editor("img2img_sketch", "Image for img2img", colors=SKETCH_COLORS)
        with gr.Tab("Inpaint", id=mode_tab_id("inpaint")) as c["tab_inpaint"]:
            c["inpaint"] = gr.ImageMask(label="Image for inpainting with mask", type="pil", image_mode="RGBA",
                                        elem_id="img2img_inpaint", height=480, sources=("upload", "clipboard"),
                                        layers=False, transforms=())
        with gr.Tab("Inpaint sketch", id=mode_tab_id("inpaint_sketch")) as c["tab_inpaint_sketch"]:
            c["inpaint_sketch"] = _editor("img2img_inpaint_sketch", "Color sketch inpainting", colors=SKETCH_COLORS)
            c["mask_alpha"] = gr.Slider(0, 100, value=0, step=1, label="Mask transparency",
                                        elem_id="img2img_mask_alpha")
        with gr.Tab("Inpaint upload", id=mode_tab_id("inpaint_upload")) as c["tab_inpaint_upload"]:
            c["init_img_inpaint"] = gr.Image(label="Image for img2img", type="pil", image_mode="RGBA",
                                             elem_id="img2img_init_img_inpaint")
            c["mask_upload"] = gr.Image(label="Mask", type="pil", image_mode="RGBA",
                                        elem_id="img2img_init_mask_inpaint")
        with gr.Tab("Batch", id=mode_tab_id("batch")) as c["tab_batch"]:
            gr.Markdown("Process images in a folder on the same machine where the server is running. "
                        "Leave the output folder empty to save to the usual img2img folder. Add a mask folder "
                        "to inpaint: each mask is matched to the image of the same name.")
            c["batch_input_dir"] = gr.Textbox(label="Input directory", elem_id="img2img_batch_input_dir")
            c["batch_output_dir"] = gr.Textbox(label="Output directory (inside the data folder; empty = default)",
                                               elem_id="img2img_batch_output_dir")
            c["batch_mask_dir"] = gr.Textbox(label="Inpaint batch mask directory (required for inpaint batch "
                                             "processing only)", elem_id="img2img_batch_inpaint_mask_dir")


def _size_controls(c: dict) -> None:
    c["resize_mode"] = gr.Radio(list(RESIZE_MODES), value=RESIZE_MODES[0], type="index", label="Resize mode",
                                elem_id="img2img_resize_mode")
    c["scale_mode"] = gr.State("to")
    with gr.Tabs(elem_id="img2img_dimensions_tabs"):
        with gr.Tab("Resize to", id="img2img_tab_resize_to") as c["tab_resize_to"]:
            with gr.Row():
                c["width"] = gr.Slider(64, 2048, value=512, step=8, label="Width", elem_id="img2img_width")
                c["height"] = gr.Slider(64, 2048, value=512, step=8, label="Height", elem_id="img2img_height")
        with gr.Tab("Resize by", id="img2img_tab_resize_by") as c["tab_resize_by"]:
            c["scale_by"] = gr.Slider(0.05, 4, value=1, step=0.05, label="Scale", elem_id="img2img_scale")


def _inpaint_options(c: dict) -> None:
    with gr.Group(visible=False, elem_id="img2img_inpaint_controls") as c["inpaint_controls"]:
        c["mask_blur"] = gr.Slider(0, 64, value=UI_IMG2IMG_DEFAULTS["mask_blur"], step=1, label="Mask blur",
                                   elem_id="img2img_mask_blur")
        c["inpainting_mask_invert"] = gr.Radio(list(MASK_MODES), value=MASK_MODES[0], type="index",
                                               label="Mask mode", elem_id="img2img_mask_mode")
        c["inpainting_fill"] = gr.Radio(list(MASKED_CONTENT), type="index", label="Masked content",
                                        value=MASKED_CONTENT[UI_IMG2IMG_DEFAULTS["inpainting_fill"]],
                                        elem_id="img2img_inpainting_fill")
        with gr.Row():
            c["inpaint_full_res"] = gr.Radio(list(INPAINT_AREAS), type="index", label="Inpaint area",
                                             value=INPAINT_AREAS[int(UI_IMG2IMG_DEFAULTS["inpaint_full_res"])],
                                             elem_id="img2img_inpaint_full_res")
            c["inpaint_full_res_padding"] = gr.Slider(0, 256, step=4, label="Only masked padding, pixels",
                                                      value=UI_IMG2IMG_DEFAULTS["inpaint_full_res_padding"],
                                                      elem_id="img2img_inpaint_full_res_padding")


def _sampling_controls(c: dict) -> None:
    with gr.Row():
        c["sampler"] = gr.Dropdown(label="Sampling method", choices=[s.name for s in SAMPLERS],
                                   value="DPM++ 2M", elem_id="img2img_sampling")
        c["scheduler"] = gr.Dropdown(label="Schedule type", choices=[s.label for s in SCHEDULES],
                                     value="Automatic", elem_id="img2img_scheduler")
    c["steps"] = gr.Slider(1, 150, value=20, step=1, label="Sampling steps", elem_id="img2img_steps")
    with gr.Row():
        c["n_iter"] = gr.Slider(1, 100, value=1, step=1, label="Batch count", elem_id="img2img_batch_count")
        c["batch_size"] = gr.Slider(1, 8, value=1, step=1, label="Batch size", elem_id="img2img_batch_size")
    c["cfg_scale"] = gr.Slider(1, 30, value=7, step=0.5, label="CFG Scale", elem_id="img2img_cfg_scale")
    c["denoising_strength"] = gr.Slider(0, 1, value=0.75, step=0.01, label="Denoising strength",
                                        elem_id="img2img_denoising_strength")


def _script_controls(c: dict) -> None:
    more = ui_scripts("img2img", skip=SCRIPTS)  # registry scripts; the outpainting ones are set up below
    c["script"] = gr.Dropdown([*SCRIPTS, *(s.title for s in more)], value=SCRIPTS[0], label="Script",
                              elem_id="img2img_script")
    build_script_groups(c, "img2img", more)
    with gr.Group(visible=False, elem_id="img2img_outpaint_controls") as c["outpaint_controls"]:
        c["outpaint_pixels"] = gr.Slider(8, 256, value=128, step=8, label="Pixels to expand",
                                         elem_id="img2img_outpaint_pixels")
        c["outpaint_mask_blur"] = gr.Slider(0, 64, value=4, step=1, label="Mask blur",
                                            elem_id="img2img_outpaint_mask_blur")
        c["outpaint_directions"] = gr.CheckboxGroup(list(DIRECTIONS), value=list(DIRECTIONS), label="Outpainting "
                                                    "direction", elem_id="img2img_outpaint_directions")
        c["outpaint_fill"] = gr.Radio(list(MASKED_CONTENT), value=MASKED_CONTENT[0], type="index",
                                      label="Masked content", elem_id="img2img_outpaint_fill")
        with gr.Row(visible=False) as c["outpaint_mk2_controls"]:
            c["outpaint_falloff"] = gr.Slider(1, 4, value=1, step=0.01, label="Fall-off exponent (lower=higher "
                                              "detail)", elem_id="img2img_outpaint_falloff")
            c["outpaint_color_variation"] = gr.Slider(0, 1, value=0.05, step=0.01, label="Color variation",
                                                      elem_id="img2img_outpaint_color_variation")


def build_img2img_layout(c: dict, more_controls: Callable[[], object] = lambda: None) -> None:
    """Lay out everything below the prompt row in the current block; components go into ``c``;
    `more_controls()` (extension controls) goes below the scripts, its result into ``c["extensions"]``."""
    with gr.Row():
        with gr.Column(scale=1):
            _sources(c)
            _size_controls(c)
            _sampling_controls(c)
            build_seed_controls(c, "img2img")
            build_override_settings(c, "img2img")
            _inpaint_options(c)
            _script_controls(c)
            c["extensions"] = more_controls()
        with gr.Column(scale=1):
            c["gallery"] = gr.Gallery(label="Output", elem_id="img2img_gallery", columns=2, height=512, type="pil")
            build_send_buttons(c, "img2img", SEND_TARGETS)
            build_gallery_tools(c, "img2img")
            c["info"] = gr.Textbox(label="Generation info", lines=4, interactive=False,
                                   elem_id="img2img_generation_info")
            c["infotexts"] = gr.State([])
