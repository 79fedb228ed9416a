"""The img2img tab: on the page with A1111's sub-tabs and UI defaults, and each sub-tab's values → Img2ImgRequest."""
from __future__ import annotations

import pytest
from PIL import Image

from modules.core.errors import InvalidRequest
from modules.core.outpaint import Outpaint
from modules.core.params import UI_IMG2IMG_DEFAULTS
from modules.interfaces.gradio_ui.app import build_ui
from modules.interfaces.gradio_ui.img2img_requests import build_request


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from modules import bootstrap
    from modules.interfaces import cli

    data = tmp_path_factory.mktemp("data")
    options = cli.parse(["--data-dir", str(data), "--use-cpu", "all", "--precision", "full"], {})
    return build_ui(bootstrap.create_context(options)).config


def _props(config) -> dict[str, dict]:
    return {c["props"].get("elem_id"): c["props"] for c in config["components"] if c["props"].get("elem_id")}


def values(**changes) -> dict:
    """The tab's values as Gradio passes them to the Generate handler, with the UI defaults."""
    base = {"mode": "img2img", "prompt": "a hut", "negative_prompt": "", "styles": [], "sampler": "Euler a",
            "scheduler": "Automatic", "steps": 20, "cfg_scale": 7, "denoising_strength": 0.75, "n_iter": 1,
            "batch_size": 1, "resize_mode": 0, "scale_mode": "to", "width": 512, "height": 512, "scale_by": 1,
            "init_img": None, "sketch": None, "inpaint": None, "inpaint_sketch": None, "mask_alpha": 0,
            "init_img_inpaint": None, "mask_upload": None, "mask_blur": 4, "inpainting_mask_invert": 0,
            "inpainting_fill": 1, "inpaint_full_res": 0, "inpaint_full_res_padding": 32, "script": "None",
            "outpaint_pixels": 128, "outpaint_mask_blur": 4, "outpaint_directions": ["left", "right", "up", "down"],
            "outpaint_fill": 0, "outpaint_falloff": 1, "outpaint_color_variation": 0.05, "batch_input_dir": "",
            "batch_output_dir": "", "batch_mask_dir": "", "seed": -1, "subseed_show": False, "subseed": -1,
            "subseed_strength": 0, "seed_resize_from_w": 0, "seed_resize_from_h": 0}
    return {**base, **changes}


def _editor(background: Image.Image, *layers: Image.Image, composite: Image.Image | None = None) -> dict:
    return {"background": background, "layers": list(layers), "composite": composite or background}


def test_tab_sits_between_txt2img_and_extras_with_all_sub_tabs(page):
    tabs = [c["props"] for c in page["components"] if c["type"] == "tabitem"]
    labels = [t["label"] for t in tabs]
    page_tabs = [t["id"] for t in tabs if t.get("id") in ("txt2img", "img2img", "extras", "settings")]
    assert page_tabs == ["txt2img", "img2img", "extras", "settings"]
    for sub in ("Sketch", "Inpaint", "Inpaint sketch", "Inpaint upload", "Batch", "Resize to", "Resize by"):
        assert sub in labels
    assert {"img2img_image", "img2img_sketch", "img2img_inpaint", "img2img_inpaint_sketch",
            "img2img_init_img_inpaint", "img2img_init_mask_inpaint", "img2img_batch_input_dir",
            "img2img_batch_output_dir", "img2img_batch_inpaint_mask_dir", "img2img_prompt", "img2img_neg_prompt",
            "img2img_generate", "img2img_interrupt", "img2img_styles", "img2img_seed", "img2img_gallery",
            "img2img_generation_info", "img2img_token_counter"} <= set(_props(page))


def test_controls_have_the_ui_defaults(page):
    props = _props(page)
    assert props["img2img_denoising_strength"]["value"] == 0.75
    assert props["img2img_resize_mode"]["choices"][0][0] == "Just resize"
    assert [c[0] for c in props["img2img_resize_mode"]["choices"]][3] == "Just resize (latent upscale)"
    assert props["img2img_mask_blur"]["value"] == UI_IMG2IMG_DEFAULTS["mask_blur"] == 4
    assert props["img2img_inpainting_fill"]["value"] == "original"
    assert props["img2img_inpaint_full_res"]["value"] == "Whole picture"
    assert props["img2img_inpaint_full_res_padding"]["value"] == 32
    assert props["img2img_mask_mode"]["value"] == "Inpaint masked"
    assert [c[0] for c in props["img2img_script"]["choices"]] == ["None", "Poor man's outpainting",
                                                                  "Outpainting mk2", "Prompt matrix",
                                                                  "Prompts from file or textbox", "X/Y/Z plot"]
    assert props["img2img_steps"]["value"] == 20 and props["img2img_cfg_scale"]["value"] == 7


def test_img2img_sub_tab_sends_the_image_and_ui_values():
    image = Image.new("RGB", (64, 48), "red")
    request = build_request(values(init_img=image, cfg_scale=6.5, denoising_strength=0.5, resize_mode=2))
    assert request.init_images == (image,) and request.mask is None
    assert (request.width, request.height, request.resize_mode) == (512, 512, 2)
    assert request.cfg_scale == 6.5 and request.denoising_strength == 0.5 and request.sampler_name == "Euler a"
    assert (request.mask_blur, request.inpainting_fill, request.inpaint_full_res,
            request.inpaint_full_res_padding) == (4, 1, False, 32)
    assert request.outpaint is None and request.source == "ui"


def test_missing_image_is_a_clear_error():
    with pytest.raises(InvalidRequest, match="Choose an image"):
        build_request(values())
    with pytest.raises(InvalidRequest, match="Choose an image"):
        build_request(values(mode="inpaint", inpaint={"background": None, "layers": [], "composite": None}))
    with pytest.raises(InvalidRequest, match="both an image and a mask"):
        build_request(values(mode="inpaint_upload", init_img_inpaint=Image.new("RGB", (8, 8))))


def test_resize_by_scales_the_image_size_down_to_multiples_of_8():
    request = build_request(values(init_img=Image.new("RGB", (100, 60)), scale_mode="by", scale_by=1.5))
    assert (request.width, request.height) == (144, 88)


def test_sketch_uses_the_composite_as_init_image():
    background, drawn = Image.new("RGBA", (32, 32), "white"), Image.new("RGBA", (32, 32), "blue")
    request = build_request(values(mode="sketch", sketch=_editor(background, composite=drawn)))
    assert request.init_images == (drawn,) and request.mask is None


def test_inpaint_mask_is_the_painted_layer():
    background = Image.new("RGBA", (32, 32), "green")
    layer = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    layer.paste((255, 255, 255, 255), (4, 4, 12, 12))
    request = build_request(values(mode="inpaint", inpaint=_editor(background, layer), inpainting_fill=0,
                                   inpaint_full_res=1, inpainting_mask_invert=1, mask_blur=8))
    assert request.init_images == (background,)
    assert request.mask.mode == "L" and request.mask.getbbox() == (4, 4, 12, 12)
    assert request.mask.getpixel((5, 5)) == 255 and request.mask.getpixel((20, 20)) == 0
    assert (request.inpainting_fill, request.inpaint_full_res, request.inpainting_mask_invert,
            request.mask_blur_xy) == (0, True, 1, (8, 8))


def test_inpaint_sketch_masks_the_coloured_strokes():
    original = Image.new("RGBA", (32, 32), "white")
    sketch = original.copy()
    sketch.paste((255, 0, 0, 255), (0, 0, 8, 8))
    request = build_request(values(mode="inpaint_sketch", inpaint_sketch=_editor(original, composite=sketch),
                                   mask_blur=0))
    assert request.mask.getbbox() == (0, 0, 8, 8)
    assert request.init_images[0].getpixel((2, 2)) == (255, 0, 0)
    assert request.init_images[0].getpixel((20, 20)) == (255, 255, 255)


def test_inpaint_upload_passes_image_and_mask():
    image, mask = Image.new("RGB", (16, 16)), Image.new("L", (16, 16), 255)
    request = build_request(values(mode="inpaint_upload", init_img_inpaint=image, mask_upload=mask))
    assert request.init_images == (image,) and request.mask is mask


def test_outpainting_scripts_become_the_outpaint_field():
    image = Image.new("RGB", (64, 64))
    request = build_request(values(init_img=image, script="Outpainting mk2", outpaint_pixels=32,
                                   outpaint_directions=["left", "down"], outpaint_mask_blur=8,
                                   outpaint_color_variation=0.1))
    assert request.outpaint == Outpaint(left=32, down=32, mask_blur=8, noise_fill=True, color_variation=0.1)
    poor = build_request(values(init_img=image, script="Poor man's outpainting", outpaint_pixels=40,
                                outpaint_directions=["right"], outpaint_fill=2))
    assert poor.outpaint == Outpaint(right=64, mask_blur=4) and poor.inpainting_fill == 2
    with pytest.raises(InvalidRequest, match="direction"):
        build_request(values(init_img=image, script="Outpainting mk2", outpaint_directions=[]))
