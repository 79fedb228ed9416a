"""The PNG Info tab and complete parameter pasting, built in gr.Blocks with handlers called directly."""
from __future__ import annotations

import json

import gradio as gr
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.interfaces.gradio_ui import txt2img_tab
from modules.interfaces.gradio_ui.extras_tab import build_extras_tab
from modules.interfaces.gradio_ui.img2img_tab import build_img2img_tab
from modules.interfaces.gradio_ui.model_bar import build_model_bar
from modules.interfaces.gradio_ui.page_links import send_targets
from modules.interfaces.gradio_ui.paste_params import override_fields, paste_source, pasted_updates
from modules.interfaces.gradio_ui.pnginfo_tab import build_pnginfo_tab, pnginfo_send_values, read_for_display

TEXT = ("a <lora:detail:0.6> cabin, <b>snow</b>\nNegative prompt: blurry\n"
        "Steps: 14, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 987, Size: 96x64, Model hash: 0123456789, "
        "Model: elsewhere, Variation seed: 5, Variation seed strength: 0.2, Denoising strength: 0.4, Clip skip: 2, "
        "Hires upscale: 1.5, Hires steps: 3, Hires upscaler: Latent (bicubic), Version: v1.10.1")


@pytest.fixture
def page(make_context):
    """The generation tabs, Extras and PNG Info in one Blocks, with the page's send targets."""
    ctx = make_context()
    with gr.Blocks() as demo:
        bar = build_model_bar(ctx)
        with gr.Tabs() as tabs:
            with gr.Tab("txt2img", id="txt2img"):
                txt2img = txt2img_tab.build_txt2img_tab(ctx, bar)
            with gr.Tab("img2img", id="img2img"):
                img2img = build_img2img_tab(ctx, bar)
            with gr.Tab("Extras", id="extras"):
                extras = build_extras_tab(ctx)
            with gr.Tab("PNG Info", id="pnginfo"):
                pnginfo = build_pnginfo_tab(ctx)
    return ctx, demo, tabs, txt2img, img2img, pnginfo, send_targets(txt2img, img2img, extras)


def _png(tmp_path, **chunks) -> str:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    path = tmp_path / "made.png"
    Image.new("RGB", (96, 64), "navy").save(path, pnginfo=info)
    return str(path)


def _by_elem(target, tabs, values) -> dict:
    return {getattr(c, "elem_id", None) or type(c).__name__: v for c, v in zip(target.outputs(tabs), values)}


def test_tab_order_and_elements(make_context):
    from modules.interfaces.gradio_ui.app import build_ui

    config = build_ui(make_context()).config
    page = ("txt2img", "img2img", "extras", "pnginfo", "settings")
    ids = [c["props"].get("id") for c in config["components"] if c["type"] == "tabitem"]
    assert [i for i in ids if i in page] == list(page)
    assert next(c for c in config["components"] if c["props"].get("id") == "pnginfo")["props"]["label"] == "PNG Info"
    ids = {c["props"].get("elem_id") for c in config["components"]}
    assert {"pnginfo_image", "pnginfo_html", "txt2img_paste", "img2img_paste", "txt2img_override_settings",
            "img2img_override_settings"} <= ids
    assert {f"pnginfo_send_to_{t}" for t in ("txt2img", "img2img", "inpaint", "extras")} <= ids


def test_display_escapes_the_text(tmp_path):
    path = _png(tmp_path, parameters=TEXT, postprocessing="<script>alert(1)</script>")
    shown, text = read_for_display(path)
    assert text == TEXT
    assert "&lt;b&gt;snow&lt;/b&gt;" in shown and "<b>snow" not in shown
    assert "&lt;script&gt;" in shown and "<script>" not in shown and "postprocessing" in shown
    (tmp_path / "bad.png").write_bytes(b"not an image")
    shown, text = read_for_display(str(tmp_path / "bad.png"))
    assert "Cannot read image metadata" in shown and text == ""
    assert read_for_display(None) == ("", "")


def test_jpeg_parameters_are_shown(tmp_path):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + TEXT.encode("utf-16-be")
    path = tmp_path / "made.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=exif.tobytes())
    shown, text = read_for_display(str(path))
    assert text == TEXT and "DPM++ 2M Karras" in shown


def test_send_to_txt2img_fills_every_field(page, tmp_path):
    ctx, _, tabs, _, _, _, targets = page
    values = _by_elem(targets["txt2img"], tabs, pnginfo_send_values(ctx, targets["txt2img"], _png(
        tmp_path, parameters=TEXT), TEXT))
    assert values["Tabs"].selected == "txt2img"
    expected = {"txt2img_prompt": "a <lora:detail:0.6> cabin, <b>snow</b>", "txt2img_neg_prompt": "blurry",
                "txt2img_steps": 14, "txt2img_sampling": "DPM++ 2M", "txt2img_scheduler": "Automatic",
                "txt2img_cfg_scale": 6.5, "txt2img_seed": 987, "txt2img_width": 96, "txt2img_height": 64,
                "txt2img_subseed_show": True, "txt2img_subseed": 5, "txt2img_subseed_strength": 0.2,
                "txt2img_enable_hr": True, "txt2img_denoising_strength": 0.4, "txt2img_hr_scale": 1.5,
                "txt2img_hires_steps": 3, "txt2img_hr_upscaler": "Latent (bicubic)"}
    assert {k: values[k] for k in expected} == expected
    assert values["txt2img_override_settings"].value == ["Clip skip: 2", "RNG: GPU"]


def test_send_to_img2img_and_inpaint_carry_the_image(page, tmp_path):
    ctx, _, tabs, _, _, _, targets = page
    path = _png(tmp_path, parameters=TEXT)
    values = _by_elem(targets["img2img"], tabs, pnginfo_send_values(ctx, targets["img2img"], path, TEXT))
    assert values["img2img_image"].size == (96, 64) and values["Tabs"].selected == "img2img"
    assert (values["img2img_denoising_strength"], values["img2img_steps"]) == (0.4, 14)
    assert values["img2img_inpainting_fill"] == "original"  # radio labels, not indices
    inpaint = pnginfo_send_values(ctx, targets["inpaint"], path, TEXT)
    assert isinstance(inpaint[0], Image.Image) and inpaint[2] == "inpaint"
    extras = pnginfo_send_values(ctx, targets["extras"], path, TEXT)
    assert extras[0] == path and extras[1].selected == "extras"  # the file itself: its chunks survive
    nothing = pnginfo_send_values(ctx, targets["txt2img"], None, "")
    assert all(v == gr.skip() for v in nothing[1:])


def test_paste_button_source_and_clip_skip_reaches_the_request(page):
    ctx, _, _, txt2img, _, _, _ = page
    assert paste_source(TEXT, "older\nSteps: 1, Sampler: Euler, Seed: 1") == TEXT
    assert paste_source("just a prompt", "older\nSteps: 1, Sampler: Euler, Seed: 1").startswith("older")
    assert paste_source("", None) is None
    chips = pasted_updates(ctx, txt2img.paste, TEXT)[-1].value
    fields = override_fields(chips, ctx.settings.current())
    assert fields == {"override_settings": {"CLIP_stop_at_last_layers": 2, "randn_source": "GPU"}}
    assert ctx.settings.current().with_overrides(fields["override_settings"]).get("CLIP_stop_at_last_layers") == 2


def test_checkpoint_chip_follows_the_setting(make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    folder.mkdir(parents=True)
    for name in ("alpha", "beta"):
        (folder / f"{name}.safetensors").write_bytes(name.encode() * 100)
    ctx = make_context()
    beta = ctx.catalog.ensure_hash(ctx.catalog.find("beta"))
    text = f"p\nSteps: 3, Sampler: Euler, Seed: 1, Model hash: {beta.short_hash}, Model: beta"
    with gr.Blocks():
        c = txt2img_tab.build_txt2img_tab(ctx, build_model_bar(ctx))
    assert pasted_updates(ctx, c.paste, text)[-1].value == ["RNG: GPU"]  # disable_weights_auto_swap is on
    ctx.settings.update({"disable_weights_auto_swap": False})
    chips = pasted_updates(ctx, c.paste, text)[-1].value
    assert chips == ["RNG: GPU", f"Checkpoint: {beta.title}"]
    assert override_fields(chips, ctx.settings.current())["checkpoint"] == beta.title
    by_name = pasted_updates(ctx, c.paste, "p\nSteps: 3, Sampler: Euler, Seed: 1, Model: beta")[-1].value
    assert by_name[-1] == f"Checkpoint: {beta.title}"
    current = pasted_updates(ctx, c.paste, "p\nSteps: 3, Sampler: Euler, Seed: 1, Model: alpha")[-1].value
    assert current == ["RNG: GPU"]  # already the selected checkpoint
    (folder / "gamma.safetensors").write_bytes(b"beta" * 100)  # a copy of beta: same hash, told apart by name
    ctx.catalog.refresh()
    gamma = ctx.catalog.ensure_hash(ctx.catalog.find("gamma"))
    copy = pasted_updates(ctx, c.paste, f"p\nSteps: 3, Sampler: Euler, Seed: 1, Model hash: {beta.short_hash}, "
                                        "Model: gamma")[-1].value
    assert copy[-1] == f"Checkpoint: {gamma.title}"
    wrong_hash = pasted_updates(ctx, c.paste, "p\nSteps: 3, Sampler: Euler, Seed: 1, Model hash: 0000000000, "
                                              "Model: gamma")[-1].value
    assert wrong_hash == ["RNG: GPU"]  # the name matches a file with another hash, and the hash matches nothing
    missing = pasted_updates(ctx, c.paste, "p\nSteps: 3, Sampler: Euler, Seed: 1, Model hash: ffffffffff")
    assert missing[-1].value == ["RNG: GPU"]
    assert json.loads((data_dir / "config.json").read_text())["disable_weights_auto_swap"] is False
