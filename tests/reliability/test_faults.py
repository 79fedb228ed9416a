"""Resource faults and job control (spec cases 21-24, and the issue's full/read-only disk and vanished files): the
server answers with a clear JSON error, frees what it held, never saves or returns a black image, and the next job
runs without a restart. Faults are injected the spec's way: a step hook raising torch's OOM, checkpoint variants with
non-finite weights, files removed or damaged under the running server."""
from __future__ import annotations

import base64
import io
import logging
import math

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from safetensors.torch import load_file, save_file

from modules import bootstrap
from modules.core.errors import GenerationFailed
from modules.core.params import Txt2ImgRequest
from modules.interfaces import cli
from tests.conftest import REPO, install_checkpoint
from tests.support.tiny_addons import build_kohya_lora

BODY = {"prompt": "a red cube", "steps": 4, "width": 64, "height": 64, "seed": 9, "sampler_name": "Euler"}


def _variant(source, dest, key: str, value: float) -> None:
    state = load_file(str(source))
    state[key] = torch.full_like(state[key], value)
    save_file(state, str(dest))


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_checkpoint):
    data_dir = tmp_path_factory.mktemp("faults") / "data"
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "good.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, "spare.safetensors")
    _variant(tiny_checkpoint("sd15"), folder / "nanunet.safetensors", "model.diffusion_model.out.2.weight", math.nan)
    build_kohya_lora("sd15", data_dir / "models" / "Lora" / "detail.safetensors", seed=1)
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    ctx.models.select_checkpoint("good")
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False, options=options),
                    base_url="http://127.0.0.1:7860") as test_client:
        test_client.ctx, test_client.data_dir = ctx, data_dir
        test_client.fault = None
        original = ctx.progress.step

        def step(number: int) -> None:  # the test-only step hook
            if test_client.fault is not None and number == test_client.fault[0]:
                raise test_client.fault[1]
            original(number)
        ctx.progress.step = step
        yield test_client


def _pngs(client) -> set:
    return set((client.data_dir / "outputs").rglob("*.png")) if (client.data_dir / "outputs").exists() else set()


def test_idle_progress_and_interrupt_have_no_effect(client):
    """Cases 21 and 22: idle progress is 0 with no job; an idle interrupt (twice) answers {} and changes nothing."""
    progress = client.get("/sdapi/v1/progress").json()
    assert progress["progress"] == 0 and progress["state"]["job_count"] == 0
    for _ in range(2):
        assert client.post("/sdapi/v1/interrupt").json() == {}
    data = client.post("/sdapi/v1/txt2img", json=BODY).json()
    assert len(data["images"]) == 1 and not json_info(data).get("interrupted")


def json_info(data: dict) -> dict:
    import json
    return json.loads(data["info"])


def test_out_of_memory_mid_job_is_507_and_the_next_job_runs(client):
    """Case 23: an OOM raised at step 2 -> 507 JSON naming the cause, no file, nothing left on the progress board;
    the next request succeeds without a restart."""
    before = _pngs(client)
    client.fault = (2, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"))
    try:
        response = client.post("/sdapi/v1/txt2img", json=BODY)
    finally:
        client.fault = None
    assert response.status_code == 507, response.text
    assert response.json()["error"] == "OutOfMemory" and "Out of memory" in response.json()["detail"]
    assert "Traceback" not in response.text
    assert _pngs(client) == before
    assert client.get("/sdapi/v1/progress").json()["state"]["job_count"] == 0
    assert client.post("/sdapi/v1/txt2img", json=BODY).status_code == 200


def test_nan_from_the_unet_is_a_clear_error_and_nothing_is_saved(client):
    """Case 24: non-finite UNet output -> an error naming the UNet and what to try; no image saved or returned."""
    before = _pngs(client)
    response = client.post("/sdapi/v1/txt2img", json={**BODY, "override_settings": {
        "sd_model_checkpoint": "nanunet"}})
    assert response.status_code == 500 and "UNet produced NaN" in response.json()["detail"], response.text
    assert "images" not in response.json() and _pngs(client) == before
    assert client.post("/sdapi/v1/txt2img", json=BODY).status_code == 200


def test_a_half_precision_vae_that_overflows_is_decoded_again_in_fp32(client, caplog):
    """Case 24: an fp16 VAE whose activations overflow (the SDXL fp16 VAE failure) is retried once in fp32: the
    image is finite and equals the fp32 decode; the retry is logged."""
    ctx = client.ctx
    request = Txt2ImgRequest(prompt="a red cube", steps=2, width=64, height=64, seed=3, sampler_name="Euler",
                             save_images=False)
    vae = ctx.models.loaded.handle.pipe.vae
    upcast = vae.config.force_upcast
    vae.register_to_config(force_upcast=False)  # SD1 VAEs upcast by themselves: test the retry, not that
    with torch.no_grad():
        vae.decoder.conv_in.weight.mul_(3000.0)  # fine in fp32, beyond fp16's range of 65504
    try:
        reference = np.asarray(ctx.generation.txt2img(request).images[0].image)
        vae.to(torch.float16)
        with caplog.at_level(logging.WARNING):
            retried = np.asarray(ctx.generation.txt2img(request).images[0].image)
    finally:
        vae.to(torch.float32)
        vae.register_to_config(force_upcast=upcast)
        with torch.no_grad():
            vae.decoder.conv_in.weight.div_(3000.0)
    assert any("decoding again in float32" in r.getMessage() for r in caplog.records)
    assert vae.dtype == torch.float32
    assert np.abs(retried.astype(int) - reference).max() <= 2  # the weights went through fp16 and back


def test_a_full_or_read_only_outputs_folder_still_returns_the_images(client):
    """Issue (crash safety): when the outputs folder cannot be written, the images come back with a warning and no
    partial file is left behind."""
    ctx, outputs = client.ctx, client.data_dir / "outputs"
    outputs.mkdir(exist_ok=True)
    blocker = outputs / "blocked"
    blocker.write_text("a file where a folder is needed: every write under it fails, also for root")
    keys = ("outdir_txt2img_samples", "outdir_txt2img_grids")
    saved = {key: ctx.settings.current().get(key) for key in keys}
    ctx.settings.update({"outdir_txt2img_samples": str(blocker / "txt2img"), "outdir_txt2img_grids": str(blocker)})
    try:
        before = set(outputs.rglob("*"))
        data = client.post("/sdapi/v1/txt2img", json={**BODY, "batch_size": 2, "save_images": True}).json()
    finally:
        ctx.settings.update(saved)
    assert len(data["images"]) == 3  # the grid and both images
    assert any("could not be saved" in w for w in json_info(data)["warnings"]), json_info(data)["warnings"]
    assert set(outputs.rglob("*")) == before
    image = Image.open(io.BytesIO(base64.b64decode(data["images"][1])))
    assert image.size == (64, 64) and np.asarray(image).std() > 0


def test_model_files_removed_or_damaged_under_the_running_server(client):
    """Issue: a deleted checkpoint, a truncated LoRA and a deleted VAE give clear errors or warnings; the server
    stays up and the loaded model keeps generating."""
    folder = client.data_dir / "models" / "Stable-diffusion"
    (folder / "spare.safetensors").unlink()
    response = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "spare"})
    assert response.status_code in (404, 422) and "spare" in response.json()["detail"], response.text
    lora = client.data_dir / "models" / "Lora" / "detail.safetensors"
    lora.write_bytes(lora.read_bytes()[:100])
    response = client.post("/sdapi/v1/txt2img", json={**BODY, "prompt": "a cube <lora:detail:1>"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert any("detail" in w for w in json_info(data)["warnings"]), json_info(data)
    assert "Lora hashes" not in json_info(data)["infotexts"][0]
    assert client.post("/sdapi/v1/txt2img", json=BODY).status_code == 200
    assert client.ctx.models.loaded.record.path.name == "good.safetensors"


def test_the_vae_nan_test_also_leaves_nothing(tiny_checkpoint, make_context, data_dir):
    """Case 24: a VAE that gives NaN even in fp32 -> a clear error naming the VAE, nothing saved."""
    folder = data_dir / "models" / "Stable-diffusion"
    folder.mkdir(parents=True)
    _variant(tiny_checkpoint("sd15"), folder / "nanvae.safetensors", "first_stage_model.decoder.conv_out.weight",
             math.nan)
    ctx = make_context()
    with pytest.raises(GenerationFailed, match="NaN values in the VAE"):
        ctx.generation.txt2img(Txt2ImgRequest(steps=1, width=64, height=64, save_images=True))
    assert not list((data_dir / "outputs").rglob("*.png")) if (data_dir / "outputs").exists() else True
