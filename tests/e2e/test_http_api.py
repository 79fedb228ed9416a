"""The /sdapi/v1 subset of this build against the real backend and tiny checkpoints."""
from __future__ import annotations

import base64
import io
import json

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from modules import bootstrap
from tests.conftest import install_checkpoint


@pytest.fixture
def client(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sdxl"), folder, "beta.safetensors")
    ctx = make_context()
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def test_txt2img_shapes_and_info(client):
    body = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, "seed": 5, "batch_size": 2,
            "sampler_name": "Euler a", "unknown_key": "ignored", "auth": "secret", "cfg_scale": None}
    response = client.post("/sdapi/v1/txt2img", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == {"images", "parameters", "info"}
    assert "unknown_key" not in data["parameters"] and "auth" not in data["parameters"]
    info = json.loads(data["info"])
    assert info["all_seeds"] == [5, 6] and info["seed"] == 5 and info["sd_model_name"] in ("alpha", "beta")
    assert len(data["images"]) == 2 and not data["images"][0].startswith("data:")
    image = Image.open(io.BytesIO(base64.b64decode(data["images"][0])))
    assert image.size == (64, 64)
    assert image.text["parameters"] == info["infotexts"][0]
    assert "CFG scale: 7.0," in info["infotexts"][0], "API floats print as A1111 prints them"
    assert not list((client.ctx.paths.data_dir / "outputs").rglob("*.png")), "API default save_images=false"


def test_sd_models_options_and_switch(client):
    models = client.get("/sdapi/v1/sd-models").json()
    assert [m["model_name"] for m in models] == ["alpha", "beta"]
    assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "beta"}).json() is None
    options = client.get("/sdapi/v1/options/").json()
    assert options["sd_model_checkpoint"].startswith("beta.safetensors [")
    assert client.ctx.models.loaded.record.stem == "beta"
    full = dict(options, sd_model_checkpoint="alpha.safetensors")
    assert client.post("/sdapi/v1/options", json=full).status_code == 200, "the full GET dict must post back"
    assert client.ctx.models.loaded.record.stem == "alpha"
    missing = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "nope"})
    assert missing.status_code == 404 and missing.json()["error"] == "ModelNotFound"
    assert client.ctx.models.loaded.record.stem == "alpha"


def test_samplers_and_errors(client):
    names = [s["name"] for s in client.get("/sdapi/v1/samplers").json()]
    assert {"Euler a", "Euler", "DPM++ 2M", "DDIM"} <= set(names)
    bad = client.post("/sdapi/v1/txt2img", json={"sampler_name": "Nope", "steps": 1, "width": 64, "height": 64})
    assert bad.status_code == 400 and "Sampler not found" in bad.json()["detail"]
    odd = client.post("/sdapi/v1/txt2img", json={"steps": 1, "width": 65, "height": 64})
    assert odd.status_code == 422 and "multiple of 8" in odd.json()["detail"]
    legacy = client.post("/sdapi/v1/txt2img", json={"sampler_name": "DPM++ 2M Karras", "steps": 1,
                                                    "width": 64, "height": 64})
    assert legacy.status_code == 200
    assert "Schedule type: Karras" in json.loads(legacy.json()["info"])["infotexts"][0]
    idle = client.get("/sdapi/v1/progress").json()
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0
    assert client.post("/sdapi/v1/interrupt").json() == {}


def test_addon_listings_and_model_actions(client, data_dir):
    from tests.support.tiny_addons import build_embedding, build_kohya_lora
    from tests.support.tiny_models import build_vae_file

    build_kohya_lora("sd15", data_dir / "models" / "Lora" / "detail.safetensors")
    build_embedding("sd15", data_dir / "embeddings" / "shiny.safetensors", vectors=2)
    build_vae_file(data_dir / "models" / "VAE" / "clear.safetensors")
    for path in ("refresh-loras", "refresh-vae", "refresh-embeddings", "refresh-checkpoints"):
        assert client.post(f"/sdapi/v1/{path}").status_code == 200
    assert [lora["name"] for lora in client.get("/sdapi/v1/loras").json()] == ["detail"]
    assert [vae["model_name"] for vae in client.get("/sdapi/v1/sd-vae").json()] == ["clear.safetensors"]
    client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "alpha"})
    body = {"prompt": "shiny", "steps": 1, "width": 64, "height": 64}
    assert client.post("/sdapi/v1/txt2img", json=body).status_code == 200
    assert client.get("/sdapi/v1/embeddings").json()["loaded"]["shiny"]["vectors"] == 2
    assert client.post("/sdapi/v1/unload-checkpoint").json() == {} and client.ctx.models.loaded is None
    assert client.post("/sdapi/v1/reload-checkpoint").json() == {} and client.ctx.models.loaded is not None
