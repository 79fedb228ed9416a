"""Hires fix controls → Txt2ImgRequest fields, and the "Send to" parameter mapping from an image's infotext."""
from __future__ import annotations

import gradio as gr
from PIL import Image

from modules.core.params import Txt2ImgRequest
from modules.core.paste_fields import img2img_fields, txt2img_fields
from modules.interfaces.gradio_ui import txt2img_tab
from modules.interfaces.gradio_ui.hires_controls import hires_fields
from modules.interfaces.gradio_ui.paste_params import PasteTarget, pasted_updates
from modules.interfaces.gradio_ui.send_to import SendTarget, selected_item, sent_values

TXT2IMG = {"prompt": "a cat", "negative_prompt": "", "styles": [], "steps": 20, "sampler": "Euler",
           "scheduler": "Automatic", "cfg_scale": 7, "width": 64, "height": 64, "seed": 1, "subseed_show": False,
           "batch_size": 1, "n_iter": 1}
HIRES = {"enable_hr": True, "hr_upscaler": "Latent (bicubic)", "hr_second_pass_steps": 10,
         "hr_denoising_strength": 0.55, "hr_scale": 1.5, "hr_resize_x": 0, "hr_resize_y": 256,
         "hr_checkpoint_name": "Use same checkpoint", "hr_sampler_name": "DPM++ 2M", "hr_scheduler": "Karras",
         "hr_prompt": "sharp", "hr_negative_prompt": ""}


def test_hires_controls_map_to_the_api_named_request_fields():
    request = txt2img_tab._request({**TXT2IMG, **HIRES})
    assert request.enable_hr is True and request.hr_upscaler == "Latent (bicubic)"
    assert (request.hr_second_pass_steps, request.denoising_strength, request.hr_scale) == (10, 0.55, 1.5)
    assert (request.hr_resize_x, request.hr_resize_y) == (0, 256)
    assert request.hr_checkpoint_name is None  # "Use same checkpoint"
    assert (request.hr_sampler_name, request.hr_scheduler) == ("DPM++ 2M", "Karras")
    assert (request.hr_prompt, request.hr_negative_prompt) == ("sharp", "")


def test_hires_defaults_match_the_request_defaults():
    defaults = {**HIRES, "enable_hr": False, "hr_upscaler": "Latent", "hr_second_pass_steps": 0,
                "hr_denoising_strength": 0.7, "hr_scale": 2, "hr_resize_y": 0, "hr_sampler_name": "Use same sampler",
                "hr_scheduler": "Use same scheduler", "hr_prompt": ""}
    plain = Txt2ImgRequest()
    for name, value in hires_fields(defaults).items():
        assert getattr(plain, name) == value, name
    assert hires_fields(TXT2IMG) == {}  # no hires controls among the values: the request keeps its defaults


def test_hires_controls_are_on_the_txt2img_tab(make_context):
    from modules.interfaces.gradio_ui.app import build_ui

    props = {c["props"].get("elem_id"): c["props"] for c in build_ui(make_context()).config["components"]}
    assert props["txt2img_enable_hr"]["label"] == "Hires. fix"
    upscalers = [choice[0] for choice in props["txt2img_hr_upscaler"]["choices"]]
    assert upscalers[:6] == ["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)",
                             "Latent (nearest)", "Latent (nearest-exact)"]
    assert {"None", "Lanczos", "Nearest"} <= set(upscalers)
    assert props["txt2img_denoising_strength"]["value"] == 0.7 and props["txt2img_hr_scale"]["value"] == 2
    for elem in ("txt2img_hires_steps", "txt2img_hr_resize_x", "txt2img_hr_resize_y", "txt2img_hr_checkpoint",
                 "txt2img_hr_sampler", "txt2img_hr_scheduler", "txt2img_hires_prompt", "txt2img_hires_neg_prompt",
                 "txt2img_send_to_img2img", "txt2img_send_to_inpaint", "txt2img_send_to_extras",
                 "img2img_send_to_txt2img", "extras_send_to_img2img"):
        assert elem in props


INFOTEXT = ("a red hut\nNegative prompt: blurry\nSteps: 12, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 42, "
            "Size: 64x96, Model hash: 0123456789")


def test_infotext_gives_the_send_to_parameters(make_context):
    ctx = make_context()
    names = ("prompt", "negative_prompt", "steps", "sampler_name", "scheduler", "cfg_scale", "seed", "width",
             "height")
    target = PasteTarget(components={n: gr.Textbox(render=False) for n in names},
                         override_settings=gr.Dropdown(render=False, multiselect=True), fields_of=txt2img_fields)
    *values, chips = pasted_updates(ctx, target, INFOTEXT)
    assert values == ["a red hut", "blurry", 12, "DPM++ 2M", "Automatic", 6.5, 42, 64, 96]
    assert chips.value == ["RNG: GPU"]  # no RNG key means A1111's default, GPU; ours is CPU
    assert pasted_updates(ctx, target, "") == [gr.skip()] * 10
    assert pasted_updates(ctx, target, None) == [gr.skip()] * 10


def test_selected_image_defaults_to_the_first():
    first, second = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")
    items = [(first, "Seed 1"), (second, "Seed 2")]
    assert selected_item(items, 1) == (second, 1)
    assert selected_item(items, 7) == (first, 0) and selected_item(items, None) == (first, 0)
    assert selected_item([], 0) == (None, 0)


def test_sent_values_carry_image_tab_and_known_parameters(make_context):
    ctx = make_context()
    first, second = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (16, 24), "blue")
    names = ("prompt", "steps", "width", "height", "subseed")
    paste = PasteTarget(components={n: gr.Textbox(render=False) for n in names},
                        override_settings=gr.Dropdown(render=False, multiselect=True), fields_of=img2img_fields)
    target = SendTarget(tab_id="img2img", image=gr.Image(render=False), paste=paste,
                        extra_outputs=(gr.State(render=False),), extra_values=lambda: ("inpaint",))
    values = sent_values(ctx, target, [(first, ""), (second, "")], 1, ["first\nSteps: 3", INFOTEXT])
    image, tabs, mode, prompt, steps, width, height, unknown, chips = values
    assert image is second and tabs.selected == "img2img" and mode == "inpaint"
    assert (prompt, steps) == ("a red hut", 12)
    assert (width, height) == (16, 24)  # an image sent to img2img keeps its own size (A1111's send_size)
    assert unknown == gr.skip() and chips.value == ["RNG: GPU"]
    params_only = SendTarget(tab_id="txt2img", paste=PasteTarget(
        components={"seed": gr.Number(render=False), "width": gr.Number(render=False)},
        override_settings=gr.Dropdown(render=False, multiselect=True), fields_of=txt2img_fields))
    assert sent_values(ctx, params_only, [(first, "")], 0, [INFOTEXT])[1:3] == [42, 64]
    assert len(params_only.outputs(gr.Tabs(render=False))) == 4
