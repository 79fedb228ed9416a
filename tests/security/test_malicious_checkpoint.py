"""A pickle that would run code is refused by name, never executed, and the previous model stays active."""
from __future__ import annotations

import pytest

from modules.core.errors import UnsupportedModel
from tests.conftest import install_checkpoint


def test_malicious_ckpt_is_refused_and_never_runs(tmp_path, make_context, data_dir, tiny_checkpoint):
    from tests.support.tiny_models import build_malicious_ckpt

    folder = data_dir / "models" / "Stable-diffusion"
    good = install_checkpoint(tiny_checkpoint("sd15"), folder)
    sentinel = tmp_path / "pwned.txt"
    evil = build_malicious_ckpt(folder / "evil.ckpt", sentinel)
    ctx = make_context()
    ctx.models.select_checkpoint(good.name)
    with pytest.raises(UnsupportedModel) as info:
        ctx.models.select_checkpoint(evil.name)
    assert "evil.ckpt" in str(info.value)
    assert not sentinel.exists(), "the pickle's payload ran"
    assert ctx.models.loaded is not None and ctx.models.loaded.record.path.name == good.name


def test_corrupt_safetensors_is_refused_and_previous_model_kept(make_context, data_dir, tiny_checkpoint):
    folder = data_dir / "models" / "Stable-diffusion"
    good = install_checkpoint(tiny_checkpoint("sd15"), folder)
    broken = folder / "broken.safetensors"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    ctx = make_context()
    ctx.models.select_checkpoint(good.name)
    with pytest.raises(UnsupportedModel) as info:
        ctx.models.select_checkpoint(broken.name)
    assert "broken.safetensors" in str(info.value)
    assert ctx.models.loaded.record.path.name == good.name


def test_not_a_checkpoint_is_refused_clearly(make_context, data_dir):
    from safetensors.torch import save_file
    import torch

    folder = data_dir / "models" / "Stable-diffusion"
    folder.mkdir(parents=True)
    save_file({"weight": torch.zeros(2, 2)}, str(folder / "lora-like.safetensors"))
    ctx = make_context()
    with pytest.raises(UnsupportedModel, match="lora-like.safetensors: not a Stable Diffusion checkpoint"):
        ctx.models.select_checkpoint("lora-like")


def test_nan_output_is_a_clear_error_and_nothing_is_saved(make_context, data_dir, tiny_checkpoint):
    import torch
    from safetensors.torch import load_file, save_file

    from modules.core.errors import GenerationFailed
    from modules.core.params import Txt2ImgRequest

    folder = data_dir / "models" / "Stable-diffusion"
    folder.mkdir(parents=True)
    state = load_file(str(tiny_checkpoint("sd15")))
    key = "first_stage_model.decoder.conv_out.weight"
    state[key] = torch.full_like(state[key], float("nan"))
    save_file(state, str(folder / "nan.safetensors"))
    ctx = make_context()
    with pytest.raises(GenerationFailed, match="nan.safetensors produced NaN"):
        ctx.generation.txt2img(Txt2ImgRequest(steps=1, width=64, height=64, save_images=True))
    assert not list((data_dir / "outputs").rglob("*.png"))
    assert ctx.progress.snapshot().job_count == 0, "the failed job must not stay on the progress board"
