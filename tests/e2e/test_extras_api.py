"""Upscalers and Extras through the real HTTP app: discovery, listings, ×4 with a tiny ESRGAN file, batch, errors."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules import bootstrap
from modules.adapters.devices import DevicePolicy
from modules.adapters.upscaler_models import NetworkUpscaler
from tests.support.tiny_upscalers import write_esrgan


@pytest.fixture
def client(make_context, data_dir, tmp_path):
    write_esrgan(data_dir / "models" / "ESRGAN" / "4x-tiny.pth", seed=1)
    write_esrgan(tmp_path / "real" / "RealESRGAN_x2plus.safetensors", scale=2, layout="new")
    ctx = make_context("--realesrgan-models-path", str(tmp_path / "real"))
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def _png(image: Image.Image, parameters: str | None = None) -> str:
    info = PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _decode(text: str) -> Image.Image:
    assert not text.startswith("data:")
    return Image.open(io.BytesIO(base64.b64decode(text)))


def _noise(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_model_files_are_discovered_and_listed(client):
    rows = client.get("/sdapi/v1/upscalers").json()
    assert [r["name"] for r in rows] == ["None", "Lanczos", "Nearest", "4x-tiny", "RealESRGAN_x2plus"]
    assert rows[3] == {"name": "4x-tiny", "model_name": "ESRGAN", "model_path": "ESRGAN/4x-tiny.pth",
                       "model_url": None, "scale": 4}
    assert rows[4]["scale"] == 2 and rows[4]["model_path"] == "RealESRGAN_x2plus.safetensors"
    modes = client.get("/sdapi/v1/latent-upscale-modes/").json()
    assert modes[0] == {"name": "Latent"} and len(modes) == 6


def test_esrgan_file_upscales_x4_through_extra_single_image(client, data_dir):
    source = _noise(24, 16)
    body = {"image": "data:image/png;base64," + _png(source, "a cat\nSteps: 20, Seed: 1"), "upscaler_1": "4x-tiny",
            "upscaling_resize": 4, "gfpgan_visibility": 0, "codeformer_visibility": 0, "unknown": 1}
    response = client.post("/sdapi/v1/extra-single-image/", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == {"html_info", "image"}
    result = _decode(data["image"])
    assert result.size == (96, 64)
    expected = NetworkUpscaler(DevicePolicy(force_cpu=True, precision="full")).upscale(
        source, data_dir / "models" / "ESRGAN" / "4x-tiny.pth", tile=192, overlap=8)
    assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(expected)), "the network's own output"
    assert result.text == {"parameters": "a cat\nSteps: 20, Seed: 1",
                           "postprocessing": "Postprocess upscale by: 4, Postprocess upscaler: 4x-tiny",
                           "extras": "Postprocess upscale by: 4, Postprocess upscaler: 4x-tiny"}
    assert data["html_info"] == "<p>Postprocess upscale by: 4, Postprocess upscaler: 4x-tiny</p>"
    assert not list((data_dir / "outputs").rglob("*.png")), "the API does not save, as in A1111"


def test_batch_with_two_upscalers_and_scale_to(client):
    images = [{"data": _png(_noise(20, 12, seed)), "name": f"img{seed}.png"} for seed in (1, 2)]
    body = {"imageList": images, "resize_mode": 1, "upscaling_resize_w": 48, "upscaling_resize_h": 32,
            "upscaling_crop": True, "upscaler_1": "RealESRGAN_x2plus", "upscaler_2": "Lanczos",
            "extras_upscaler_2_visibility": 0.5}
    response = client.post("/sdapi/v1/extra-batch-images", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data["images"]) == 2 and [_decode(i).size for i in data["images"]] == [(48, 32), (48, 32)]
    assert data["html_info"] == ("<p>Postprocess upscale to: 48x32, Postprocess crop to: 48x32, Postprocess "
                                 "upscaler: RealESRGAN_x2plus, Postprocess upscaler 2: Lanczos</p>")
    first, second = (np.asarray(_decode(i)) for i in data["images"])
    assert not np.array_equal(first, second)


VALID = object()  # stands for a valid base64 PNG


@pytest.mark.parametrize("body, status, error", [
    ({"image": "not base64!!", "upscaler_1": "Lanczos"}, 422, "InvalidRequest"),
    ({"image": base64.b64encode(b"<html></html>").decode(), "upscaler_1": "Lanczos"}, 422, "InvalidRequest"),
    ({"upscaler_1": "Lanczos"}, 422, "InvalidRequest"),
    ({"image": VALID, "upscaler_1": "R-ESRGAN 4x+"}, 404, "ModelNotFound"),
    ({"image": VALID, "upscaler_1": "Lanczos", "upscaler_2": "SwinIR 4x", "extras_upscaler_2_visibility": 0.3}, 404,
     "ModelNotFound"),
    ({"image": VALID, "upscaler_1": "Lanczos", "codeformer_visibility": 1}, 422, "InvalidRequest"),
    ({"image": VALID, "upscaler_1": "Lanczos", "upscaling_resize": 20}, 422, "InvalidRequest"),
])
def test_bad_requests_get_clear_4xx(client, body, status, error):
    body = {k: _png(_noise(16, 16)) if v is VALID else v for k, v in body.items()}
    response = client.post("/sdapi/v1/extra-single-image", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["detail"]


def test_bad_image_in_a_batch_names_its_index(client):
    body = {"imageList": [{"data": _png(_noise(8, 8)), "name": "a"}, {"data": "%%%", "name": "b"}],
            "upscaler_1": "Nearest"}
    response = client.post("/sdapi/v1/extra-batch-images", json=body)
    assert response.status_code == 422 and "imageList[1]" in response.json()["detail"]
