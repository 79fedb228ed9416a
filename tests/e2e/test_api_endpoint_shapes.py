"""Every endpoint of spec/http-api.md §2 answers with A1111's shape (keys and types), on the real backend."""
from __future__ import annotations

import base64
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from modules import bootstrap
from tests.conftest import install_checkpoint

SMALL = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, "seed": 1}
OPT, NUM = (type(None),), (int, float)


@pytest.fixture
def client(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "alpha.safetensors")
    (data_dir / "models" / "RealESRGAN").mkdir(parents=True)
    (data_dir / "models" / "RealESRGAN" / "RealESRGAN_x4plus.pth").write_bytes(b"not loaded by listings")
    ctx = make_context()
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def png_b64(size: int = 32) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "white").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def typed(item: dict, shape: dict) -> None:
    """`item` has exactly `shape`'s keys, each value of the listed types."""
    assert set(item) == set(shape), (sorted(item), sorted(shape))
    for key, kinds in shape.items():
        assert isinstance(item[key], kinds), (key, item[key])


LISTINGS = {
    "sd-models": {"title": str, "model_name": str, "hash": (str, *OPT), "sha256": (str, *OPT), "filename": str,
                  "config": (str, *OPT)},
    "samplers": {"name": str, "aliases": list, "options": dict},
    "schedulers": {"name": str, "label": str, "aliases": (list, *OPT), "default_rho": (*NUM, *OPT),
                   "need_inner_model": (bool, *OPT)},
    "upscalers": {"name": str, "model_name": (str, *OPT), "model_path": (str, *OPT), "model_url": OPT,
                  "scale": (*NUM, *OPT)},
    "latent-upscale-modes": {"name": str},
    "realesrgan-models": {"name": str, "path": (str, *OPT), "scale": (int, *OPT)},
}


def test_listings(client):
    for path, shape in LISTINGS.items():
        items = client.get(f"/sdapi/v1/{path}").json()
        assert isinstance(items, list) and items, path
        for item in items:
            typed(item, shape)
    assert [m["name"] for m in client.get("/sdapi/v1/realesrgan-models").json()] == ["RealESRGAN_x4plus"]
    for path in ("loras", "sd-vae", "prompt-styles", "hypernetworks", "face-restorers", "extensions"):
        assert client.get(f"/sdapi/v1/{path}").json() == [], path
    embeddings = client.get("/sdapi/v1/embeddings").json()
    assert set(embeddings) == {"loaded", "skipped"}
    assert client.get("/sdapi/v1/scripts").json() == {"txt2img": ["prompt matrix", "prompts from file or textbox", "x/y/z plot"],
        "img2img": ["outpainting mk2", "poor man's outpainting", "prompt matrix", "prompts from file or textbox",
                    "x/y/z plot"]}
    for script in client.get("/sdapi/v1/script-info").json():
        typed(script, {"name": str, "is_alwayson": bool, "is_img2img": bool, "args": list})
        for arg in script["args"]:
            assert set(arg) == {"label", "value", "minimum", "maximum", "step", "choices"}


def test_generation_and_job_control(client):
    data = client.post("/sdapi/v1/txt2img", json=SMALL).json()
    typed(data, {"images": list, "parameters": dict, "info": str})
    progress = client.get("/sdapi/v1/progress?skip_current_image=true").json()
    typed(progress, {"progress": NUM, "eta_relative": NUM, "state": dict, "current_image": (str, *OPT),
                     "textinfo": (str, *OPT)})
    assert {"skipped", "interrupted", "job", "job_count", "job_timestamp", "job_no", "sampling_step",
            "sampling_steps"} <= set(progress["state"])
    assert client.post("/sdapi/v1/interrupt").json() == {}
    image = {"image": png_b64(), "upscaler_1": "Lanczos", "upscaling_resize": 2}
    typed(client.post("/sdapi/v1/extra-single-image", json=image).json(), {"image": str, "html_info": str})
    batch = {"imageList": [{"data": png_b64(), "name": "a.png"}], "upscaler_1": "Nearest"}
    typed(client.post("/sdapi/v1/extra-batch-images", json=batch).json(), {"images": list, "html_info": str})
    info = client.post("/sdapi/v1/png-info", json={"image": data["images"][0]}).json()
    typed(info, {"info": str, "items": dict, "parameters": dict})


def test_settings_memory_flags_and_actions(client):
    options = client.get("/sdapi/v1/options").json()
    assert {"sd_model_checkpoint", "sd_checkpoint_hash", "CLIP_stop_at_last_layers", "samples_format"} <= set(options)
    assert client.post("/sdapi/v1/options", json={}).json() is None
    flags = client.get("/sdapi/v1/cmd-flags").json()
    assert flags["api_server_stop"] is False and flags["api_auth"] is None and "unknown_args" not in flags
    memory = client.get("/sdapi/v1/memory").json()
    assert set(memory) == {"ram", "cuda"} and {"free", "used", "total"} <= set(memory["ram"])
    assert "error" in memory["cuda"] or "system" in memory["cuda"]
    for path in ("refresh-checkpoints", "refresh-vae", "refresh-loras", "refresh-embeddings"):
        assert client.post(f"/sdapi/v1/{path}").json() is None
    assert client.post("/sdapi/v1/unload-checkpoint").json() == {}
    assert client.post("/sdapi/v1/reload-checkpoint").json() == {}


@pytest.mark.parametrize("method, path", [
    ("GET", "/sdapi/v1/sd-modules"), ("GET", "/controlnet/version"), ("GET", "/controlnet/model_list"),
    ("POST", "/sdapi/v1/server-kill"), ("POST", "/sdapi/v1/server-stop"), ("POST", "/sdapi/v1/server-restart"),
    ("POST", "/sdapi/v1/train/embedding"), ("GET", "/sdapi/auto-photoshop-sd/x")])
def test_unknown_routes_are_json_404(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error", "detail", "body", "errors"} and body["error"] == "NotFound"


def test_openapi_schema_builds(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/sdapi/v1/png-info", "/sdapi/v1/cmd-flags", "/sdapi/v1/txt2img"} <= set(paths)
    assert "/sdapi/v1/png-info/" not in paths, "trailing-slash twins stay out of the docs"


def test_interrogate_is_a_clean_404(client):
    response = client.post("/sdapi/v1/interrogate", json={"image": png_b64(), "model": "clip"})
    assert response.status_code == 404 and "Model not found" in response.json()["detail"]
