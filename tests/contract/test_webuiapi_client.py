"""Acceptance 1: the real webuiapi client (0.9.17) against the live server and tiny checkpoints."""
from __future__ import annotations

import json

import pytest
from PIL import Image

webuiapi = pytest.importorskip("webuiapi")

SMALL = {"steps": 2, "width": 64, "height": 64}


@pytest.fixture(scope="module")
def api(live):
    server, _ = live
    return webuiapi.WebUIApi(host=server.host, port=server.port, sampler="Euler a", steps=2)


def test_constructor_reads_scripts(api):
    assert api.has_controlnet is False and api.has_adetailer is False
    assert api.get_scripts() == {"txt2img": ["prompt matrix", "prompts from file or textbox", "x/y/z plot"],
        "img2img": ["outpainting mk2", "poor man's outpainting", "prompt matrix", "prompts from file or textbox",
                    "x/y/z plot"]}


def test_models_switch_and_current(api, live):
    titles = api.util_get_model_names()
    assert [t.split(" [")[0] for t in titles] == ["alpha.safetensors", "beta-inpainting.safetensors"]
    api.util_set_model("alpha")
    assert api.util_get_current_model().startswith("alpha.safetensors [")
    api.util_set_model("beta")
    assert api.util_get_current_model().startswith("beta-inpainting.safetensors [")
    options = api.get_options()
    sha = [m["sha256"] for m in api.get_sd_models() if m["title"] == options["sd_model_checkpoint"]]
    assert sha == [options["sd_checkpoint_hash"]], "webuiapi's fallback: sd_checkpoint_hash == sd-models sha256"
    api.util_set_model("alpha")


def test_txt2img_and_png_info(api):
    result = api.txt2img(prompt="a red ball", seed=11, **SMALL)
    assert len(result.images) == 1 and result.image.size == (64, 64)
    assert isinstance(result.info, dict) and result.info["all_seeds"] == [11]
    assert result.info["sd_model_name"] == "alpha" and len(result.info["infotexts"]) == 1
    assert result.parameters["prompt"] == "a red ball" and result.parameters["steps"] == 2
    info = api.png_info(result.image)
    assert info.info == result.info["infotexts"][0], "webuiapi falls back to the raw infotext string"
    parsed = info.json["parameters"]
    assert parsed["Prompt"] == "a red ball" and parsed["Seed"] == "11" and parsed["Sampler"] == "Euler a"
    assert parsed["Size-1"] == 64 and parsed["Size-2"] == 64


def test_img2img_with_mask(api):
    picture = Image.new("RGB", (64, 64), (200, 40, 40))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    result = api.img2img(images=[picture], mask_image=mask, prompt="a ball", seed=5, denoising_strength=0.6,
                         **SMALL)
    assert result.image.size == (64, 64) and result.info["all_seeds"] == [5]
    assert result.parameters["init_images"] is None and result.parameters["mask"] is None
    assert result.image.convert("RGB").getpixel((2, 2)) == (200, 40, 40), "outside the mask is kept"


def test_listings_options_and_job_control(api):
    assert {"Euler a", "Euler", "DPM++ 2M"} <= {s["name"] for s in api.get_samplers()}
    assert [lora["name"] for lora in api.get_loras()] == ["detail"]
    assert "automatic" in api.util_get_scheduler_names()
    before = api.get_options()
    api.set_options({"CLIP_stop_at_last_layers": 2})
    assert api.get_options()["CLIP_stop_at_last_layers"] == 2
    api.set_options(before)
    assert api.get_options()["CLIP_stop_at_last_layers"] == before["CLIP_stop_at_last_layers"]
    progress = api.get_progress()
    assert progress["progress"] == 0 and progress["state"]["job_count"] == 0
    api.util_wait_for_ready(check_interval=0.1)
    assert api.interrupt() == {}
    for call in (api.get_hypernetworks, api.get_face_restorers, api.get_realesrgan_models, api.get_sd_vae,
                 api.get_upscalers, api.get_latent_upscale_modes, api.get_prompt_styles, api.get_embeddings,
                 api.get_memory, api.get_cmd_flags, api.refresh_checkpoints):
        json.dumps(call())


def test_skip(api):
    assert api.skip() is None


def test_extra_single_image(api):
    result = api.extra_single_image(Image.new("RGB", (32, 32), "white"), upscaler_1="Lanczos", upscaling_resize=2)
    assert result.image.size == (64, 64)


def test_interrogate_error_is_clean(api):
    with pytest.raises(RuntimeError) as caught:
        api.interrogate(Image.new("RGB", (32, 32), "white"))
    status, text = caught.value.args
    body = json.loads(text)
    assert status == 404 and body["error"] == "ModelNotFound" and "Model not found" in body["detail"]
