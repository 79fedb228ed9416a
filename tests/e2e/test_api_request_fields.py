"""A1111's remaining txt2img/img2img body fields: echoed when known, refused when unsupported, ``infotext``
filling, saving/sending switches on disk, and the ``info`` payload's keys."""
from __future__ import annotations

import base64
import io
import json

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from modules import bootstrap
from tests.conftest import install_checkpoint

SMALL = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, "seed": 3}


@pytest.fixture
def client(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "alpha.safetensors")
    (data_dir / "styles.csv").write_text('name,prompt,negative_prompt\nfancy,"{prompt}, ornate",plain\n')
    ctx = make_context()
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def pngs(data_dir) -> set:
    return set((data_dir / "outputs").rglob("*.png")) if (data_dir / "outputs").exists() else set()


def test_known_fields_echoed_and_info_keys(client):
    body = {**SMALL, "batch_size": 2, "styles": ["fancy"], "comments": {"note": "x"}, "force_task_id": "task-1",
            "script_args": [], "alwayson_scripts": {"ControlNet": {"args": []}}, "s_churn": 0.0, "eta": 1.0,
            "refiner_switch_at": 0.8, "firstphase_width": 0, "url": "http://x", "auth": "u:p"}
    data = client.post("/sdapi/v1/txt2img", json=body).json()
    params = data["parameters"]
    for key in ("comments", "force_task_id", "alwayson_scripts", "refiner_switch_at", "firstphase_width",
                "firstpass_image", "infotext", "s_min_uncond", "hr_checkpoint_name", "script_name"):
        assert key in params, key
    assert "url" not in params and "auth" not in params
    info = json.loads(data["info"])
    assert info["all_prompts"] == ["a cat, ornate"] * 2 and info["all_negative_prompts"] == ["plain"] * 2
    assert info["prompt"] == "a cat, ornate" and info["styles"] == ["fancy"] and info["all_seeds"] == [3, 4]
    assert info["extra_generation_params"]["Schedule type"] == "Automatic"
    assert info["index_of_first_image"] == 0 and len(info["infotexts"]) == 2
    assert info["is_using_inpainting_conditioning"] is False and info["version"].startswith("sdwebui")
    assert any("ControlNet" in w for w in info["warnings"])


@pytest.mark.parametrize("extra, word", [
    ({"script_name": "no such script"}, "Script not found"), ({"refiner_checkpoint": "alpha"}, "refiner"),
    ({"hr_checkpoint_name": "alpha"}, "hr_checkpoint_name"), ({"firstpass_image": "abc"}, "firstpass_image"),
    ({"steps": "many"}, "steps"), ({"override_settings": {"s_noise": "loud"}}, "s_noise")])
def test_unsupported_or_bad_fields_are_422(client, extra, word):
    response = client.post("/sdapi/v1/txt2img", json={**SMALL, **extra})
    assert response.status_code == 422 and word in response.json()["detail"]
    assert {"error", "detail", "body", "errors"} <= set(response.json())


def test_img2img_script_names(client):
    image = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(image, format="PNG")
    body = {**SMALL, "init_images": [base64.b64encode(image.getvalue()).decode()], "script_name": "Nope"}
    assert client.post("/sdapi/v1/img2img", json=body).status_code == 422
    assert client.post("/sdapi/v1/img2img", json={**body, "script_name": ""}).status_code == 200


def test_infotext_fills_unsent_fields(client):
    text = "a dog\nNegative prompt: cat\nSteps: 3, Sampler: Euler, CFG scale: 5.5, Seed: 9, Size: 64x64, Clip skip: 2"
    data = client.post("/sdapi/v1/txt2img", json={"infotext": text, "steps": 2}).json()
    info = json.loads(data["info"])
    assert info["prompt"] == "a dog" and info["negative_prompt"] == "cat" and info["steps"] == 2
    assert info["seed"] == 9 and info["cfg_scale"] == 5.5 and info["sampler_name"] == "Euler"
    assert info["clip_skip"] == 2 and (info["width"], info["height"]) == (64, 64)


def test_save_send_switches_on_disk(client, data_dir):
    before = pngs(data_dir)
    kept = client.post("/sdapi/v1/txt2img", json={**SMALL, "save_images": True}).json()
    new = pngs(data_dir) - before
    assert len(new) == 1 and len(kept["images"]) == 1
    assert Image.open(next(iter(new))).text["parameters"] == json.loads(kept["info"])["infotexts"][0]
    before = pngs(data_dir)
    client.post("/sdapi/v1/txt2img", json={**SMALL, "save_images": True, "do_not_save_samples": True})
    client.post("/sdapi/v1/txt2img", json=SMALL)
    assert pngs(data_dir) == before, "do_not_save_samples and the API default save_images=false write nothing"
    quiet = client.post("/sdapi/v1/txt2img", json={**SMALL, "send_images": False}).json()
    assert quiet["images"] == [] and json.loads(quiet["info"])["all_seeds"] == [3]


def test_legacy_firstphase_size_runs_hires_fix_to_width_and_height(client):
    body = {**SMALL, "width": 128, "height": 128, "enable_hr": True, "firstphase_width": 64,
            "firstphase_height": 64, "hr_upscaler": "Lanczos", "denoising_strength": 0.5}
    data = client.post("/sdapi/v1/txt2img", json=body).json()
    image = Image.open(io.BytesIO(base64.b64decode(data["images"][0])))
    info = json.loads(data["info"])
    assert image.size == (128, 128) and (info["width"], info["height"]) == (64, 64)
    assert "Size: 64x64" in info["infotexts"][0] and info["denoising_strength"] == 0.5
