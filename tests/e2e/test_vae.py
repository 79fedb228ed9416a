"""External VAEs in A1111's resolution order; the checkpoint's own VAE is restored exactly."""
from __future__ import annotations

import hashlib
import json

import numpy as np

from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint
from tests.support.tiny_models import build_vae_file


def _run(ctx, **overrides):
    result = ctx.generation.txt2img(Txt2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=4,
                                                   sampler_name="Euler", save_images=False, **overrides))
    return np.asarray(result.images[0].image), result.images[0].infotext


def test_sd_vae_setting_changes_the_image_and_none_restores_it(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "a.safetensors")
    vae = build_vae_file(data_dir / "models" / "VAE" / "better.safetensors", family="sd15", seed=5)
    ctx = make_context()
    baseline, text = _run(ctx)
    assert "VAE" not in text
    ctx.settings.update({"sd_vae": "better.safetensors"})
    external, text = _run(ctx)
    assert not np.array_equal(baseline, external)
    sha = hashlib.sha256(vae.read_bytes()).hexdigest()
    assert f", VAE hash: {sha[:10]}, VAE: better.safetensors," in text
    ctx.settings.update({"sd_vae": "None"})
    restored, text = _run(ctx)
    assert np.array_equal(baseline, restored) and "VAE" not in text
    per_job, _ = _run(ctx, override_settings={"sd_vae": "better"})
    assert np.array_equal(per_job, external), "override_settings picks the VAE for one job"
    assert np.array_equal(_run(ctx)[0], baseline)


def test_automatic_vae_beside_the_checkpoint_and_sidecar_preference(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    build_vae_file(folder / "a.vae.safetensors", family="sd15", seed=6)
    build_vae_file(data_dir / "models" / "VAE" / "other.safetensors", family="sd15", seed=7)
    ctx = make_context()
    _, text = _run(ctx)
    assert "VAE: a.vae.safetensors" in text
    (folder / "a.json").write_text(json.dumps({"vae": "other.safetensors"}))
    _, text = _run(ctx)
    assert "VAE: other.safetensors" in text


def test_vae_path_flag_wins(tiny_checkpoint, make_context, data_dir, tmp_path):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "a.safetensors")
    forced = build_vae_file(tmp_path / "forced.safetensors", family="sd15", seed=8)
    ctx = make_context("--vae-path", str(forced))
    ctx.settings.update({"sd_vae": "None"})
    _, text = _run(ctx)
    assert "VAE: forced.safetensors" in text
