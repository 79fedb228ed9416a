"""``/sdapi/v1/options``: full round-trip, locked keys (403), unknown keys, checkpoint aliases; per-request
overrides never reach the stored settings."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from tests.conftest import install_checkpoint

SMALL = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, "seed": 1}


@pytest.fixture
def client(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sd15-inpaint"), folder / "sub", "beta.safetensors")
    ctx = make_context()
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def test_round_trip_locked_and_unknown_keys(client):
    assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "alpha"}).json() is None
    options = client.get("/sdapi/v1/options").json()
    assert options["sd_checkpoint_hash"] == client.ctx.models.loaded.record.sha256
    assert len(options["sd_checkpoint_hash"]) == 64
    full = {**options, "some_extension_key": [1, 2], "CLIP_stop_at_last_layers": 3}
    assert client.post("/sdapi/v1/options/", json=full).status_code == 200, "equal locked values are no-ops"
    after = client.get("/sdapi/v1/options").json()
    assert after["CLIP_stop_at_last_layers"] == 3 and "some_extension_key" not in after
    for key, value in (("outdir_samples", "/tmp/elsewhere"), ("samples_filename_pattern", "[seed]"),
                       ("api_enable_requests", True)):
        refused = client.post("/sdapi/v1/options", json={**after, key: value})
        if key in after:
            assert refused.status_code == 403 and key in refused.json()["detail"], key
        else:
            assert refused.status_code == 200, "unknown keys are ignored"
    assert client.get("/sdapi/v1/options").json() == after, "a refused request changes nothing"


def test_checkpoint_aliases_and_unknown(client):
    catalog = client.ctx.catalog
    for alias in ("sub/beta.safetensors", "sub_beta", "beta"):
        assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": alias}).json() is None
        assert client.ctx.models.loaded.record.stem == "beta"
        client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "alpha"})
    beta = catalog.ensure_hash(catalog.find("beta"))
    for alias in (beta.short_hash, beta.sha256, f"sub/beta.safetensors [{beta.short_hash}]"):
        client.post("/sdapi/v1/options", json={"sd_model_checkpoint": alias})
        assert client.ctx.models.loaded.record.stem == "beta", alias
        client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "alpha"})
    assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": 5}).status_code == 422
    missing = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "nope", "CLIP_stop_at_last_layers": 4})
    assert missing.status_code == 404
    options = client.get("/sdapi/v1/options").json()
    assert options["CLIP_stop_at_last_layers"] == 1 and options["sd_model_checkpoint"].startswith("alpha")


def test_override_settings_apply_to_one_request(client, data_dir):
    from tests.support.tiny_models import build_vae_file

    build_vae_file(data_dir / "models" / "VAE" / "clear.safetensors")
    client.post("/sdapi/v1/refresh-vae")
    client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "alpha"})
    before = client.get("/sdapi/v1/options").json()
    body = {**SMALL, "override_settings": {"CLIP_stop_at_last_layers": 2, "sd_vae": "clear.safetensors"}}
    info = json.loads(client.post("/sdapi/v1/txt2img", json=body).json()["info"])
    assert "Clip skip: 2" in info["infotexts"][0] and info["clip_skip"] == 2
    assert info["sd_vae_name"] == "clear.safetensors" and len(info["sd_vae_hash"]) == 10
    assert client.get("/sdapi/v1/options").json() == before
    plain = json.loads(client.post("/sdapi/v1/txt2img", json=SMALL).json()["info"])
    assert plain["clip_skip"] == 1 and plain["sd_vae_name"] is None and "Clip skip" not in plain["infotexts"][0]


def test_bad_override_values_are_client_errors(client):
    bad = client.post("/sdapi/v1/txt2img", json={**SMALL, "override_settings": {"CLIP_stop_at_last_layers": 99}})
    assert bad.status_code == 422 and "CLIP_stop_at_last_layers" in bad.json()["detail"]
    locked = client.post("/sdapi/v1/txt2img", json={**SMALL, "override_settings": {"outdir_samples": "/etc"}})
    assert locked.status_code == 403


def test_a_model_switch_shows_as_a_job(client, monkeypatch):
    seen = []
    real = client.ctx.models.select_checkpoint

    def watched(alias, **kwargs):
        seen.append(client.get("/sdapi/v1/progress").json()["state"])
        return real(alias, **kwargs)
    monkeypatch.setattr(client.ctx.models, "select_checkpoint", watched)
    assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "beta"}).json() is None
    assert seen and seen[0]["job_count"] == 1 and seen[0]["job"] == "Load checkpoint"
    idle = client.get("/sdapi/v1/progress").json()
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0


def test_a_checkpoint_override_lasts_one_request(client):
    client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "alpha"})
    before = client.get("/sdapi/v1/options").json()
    body = {**SMALL, "override_settings": {"sd_model_checkpoint": "beta"}}
    assert json.loads(client.post("/sdapi/v1/txt2img", json=body).json()["info"])["sd_model_name"] == "beta"
    assert json.loads(client.post("/sdapi/v1/txt2img", json=SMALL).json()["info"])["sd_model_name"] == "alpha"
    assert client.get("/sdapi/v1/options").json() == before
