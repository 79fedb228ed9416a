"""``POST /sdapi/v1/img2img`` (and txt2img's hires fields) with A1111's field names against the real backend,
plus the img2img Batch run over a folder."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from modules.core.params import Img2ImgRequest
from tests.conftest import install_checkpoint
from tests.e2e.test_img2img import centre_mask, picture


@pytest.fixture(scope="module")
def client(tiny_checkpoint, tmp_path_factory):
    from modules import bootstrap
    from modules.interfaces import cli
    from tests.conftest import REPO

    data_dir = tmp_path_factory.mktemp("img2img-api")
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def b64(image: Image.Image, prefix: bool = False) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/png;base64,{data}" if prefix else data


def decode(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))


BASE = {"prompt": "a red ball", "steps": 3, "width": 64, "height": 64, "seed": 4, "sampler_name": "Euler"}


def test_img2img_api_with_and_without_data_prefix(client):
    plain = client.post("/sdapi/v1/img2img", json={**BASE, "init_images": [b64(picture())]})
    prefixed = client.post("/sdapi/v1/img2img", json={**BASE, "init_images": [b64(picture(), prefix=True)],
                                                      "include_init_images": True})
    assert plain.status_code == 200, plain.text
    data = plain.json()
    assert set(data) == {"images", "parameters", "info"}
    info = json.loads(data["info"])
    assert info["seed"] == 4 and info["denoising_strength"] == 0.75
    assert "Denoising strength: 0.75" in info["infotexts"][0]
    assert data["parameters"]["init_images"] is None, "inputs are echoed only with include_init_images"
    assert prefixed.json()["parameters"]["init_images"]
    assert np.array_equal(np.asarray(decode(data["images"][0])), np.asarray(decode(prefixed.json()["images"][0])))


def test_img2img_api_inpaint_defaults_are_a1111s(client):
    body = {**BASE, "init_images": [b64(picture())], "mask": b64(centre_mask()), "denoising_strength": 0.6}
    response = client.post("/sdapi/v1/img2img", json=body)
    assert response.status_code == 200, response.text
    text = json.loads(response.json()["info"])["infotexts"][0]
    # API defaults: masked content fill, only masked, padding 0, blur 4
    assert "Mask blur: 4, Inpaint area: Only masked, Masked area padding: 0, Masked content: fill" in text
    out = np.asarray(decode(response.json()["images"][0]).convert("RGB"))
    outside = np.ones((64, 64), bool)
    outside[12:52, 12:52] = False  # the mask (24-40) grown by the blur kernel radius (10)
    assert np.array_equal(out[outside], np.asarray(picture())[outside])


def test_img2img_api_rejects_bad_images(client):
    for bad in ("not base64!!", b64(picture())[:40], base64.b64encode(b"hello").decode()):
        response = client.post("/sdapi/v1/img2img", json={**BASE, "init_images": [bad]})
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "InvalidRequest"
    assert client.post("/sdapi/v1/img2img", json=BASE).status_code == 422, "init_images is required"


def test_img2img_api_outpainting_script(client):
    body = {**BASE, "init_images": [b64(picture())], "script_name": "Poor man's outpainting",
            "script_args": [64, 4, 1, ["right"]], "denoising_strength": 0.8}
    response = client.post("/sdapi/v1/img2img", json=body)
    assert response.status_code == 200, response.text
    out = decode(response.json()["images"][0])
    assert out.size == (128, 64)
    unknown = client.post("/sdapi/v1/img2img", json={**body, "script_name": "X/Y/Z plot"})
    assert unknown.status_code == 422


def test_txt2img_api_accepts_hires_fields(client):
    body = {**BASE, "enable_hr": True, "hr_scale": 2, "hr_upscaler": "Latent (nearest)", "denoising_strength": 0.5,
            "hr_second_pass_steps": 1}
    response = client.post("/sdapi/v1/txt2img", json=body)
    assert response.status_code == 200, response.text
    assert decode(response.json()["images"][0]).size == (128, 128)
    info = json.loads(response.json()["info"])
    assert info["width"] == 64 and "Hires upscaler: Latent (nearest)" in info["infotexts"][0]
    assert response.json()["parameters"]["enable_hr"] is True


def test_batch_folder_writes_one_output_per_image(client, tmp_path):
    ctx = client.ctx
    source = tmp_path / "in"
    source.mkdir()
    for i in range(5):
        picture(shift=i * 30).save(source / f"img{i + 1}.png")
    (source / "notes.txt").write_text("not an image")
    request = Img2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=1, sampler_name="Euler",
                             denoising_strength=0.5)
    result = ctx.generation.img2img_batch(request, source, "outputs/batch-out")
    assert [p.name for p in result.outputs] == [f"img{i + 1}.png" for i in range(5)]
    assert all(p.parent == ctx.paths.data_dir / "outputs" / "batch-out" for p in result.outputs)
    assert all(Image.open(p).text["parameters"] == text for p, text in zip(result.outputs, result.infotexts))
    assert len(result.skipped) == 1 and result.skipped[0].startswith("notes.txt")
