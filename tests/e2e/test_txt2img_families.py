"""txt2img end to end through the real diffusers pipeline on tiny SD1, SD2-v and SDXL checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

from modules.core.model_family import ModelFamily
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint

CASES = [("sd15", ModelFamily.SD1), ("sd2-v", ModelFamily.SD2_V), ("sdxl", ModelFamily.SDXL)]


def _request(**overrides) -> Txt2ImgRequest:
    base = dict(prompt="a red circle", negative_prompt="blurry", steps=3, sampler_name="Euler a",
                scheduler="Automatic", cfg_scale=7, width=64, height=64, seed=1234, save_images=False)
    base.update(overrides)
    return Txt2ImgRequest(**base)


def _pixels(result) -> list[np.ndarray]:
    return [np.asarray(img.image) for img in result.images]


@pytest.mark.parametrize("fmt", ["safetensors", "ckpt"])
@pytest.mark.parametrize("family,expected", CASES)
def test_family_loads_and_generates(family, expected, fmt, tiny_checkpoint, make_context, data_dir):
    path = install_checkpoint(tiny_checkpoint(family, fmt), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    loaded = ctx.models.select_checkpoint(path.name)
    assert loaded.family is expected
    first = ctx.generation.txt2img(_request())
    again = ctx.generation.txt2img(_request())
    assert first.images[0].image.size == (64, 64)
    assert np.array_equal(_pixels(first)[0], _pixels(again)[0]), "same seed must give the same image"
    other = ctx.generation.txt2img(_request(seed=4321))
    assert not np.array_equal(_pixels(first)[0], _pixels(other)[0])
    assert first.images[0].infotext.splitlines()[-1].startswith("Steps: 3, Sampler: Euler a, ")


def test_batch_images_match_single_runs(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    batch = ctx.generation.txt2img(_request(sampler_name="Euler", batch_size=2, seed=77))
    assert batch.all_seeds == [77, 78]
    for index, seed in enumerate((77, 78)):
        single = ctx.generation.txt2img(_request(sampler_name="Euler", seed=seed))
        diff = np.abs(_pixels(batch)[index].astype(int) - _pixels(single)[0].astype(int)).max()
        assert diff <= 2, f"image {index} of the batch differs from seed {seed} alone by {diff}"


def test_random_seed_is_in_a1111_range_and_recorded(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    result = ctx.generation.txt2img(_request(seed=-1, n_iter=2))
    assert 0 <= result.seed < 4294967294
    assert result.all_seeds == [result.seed, result.seed + 1]
    assert f"Seed: {result.seed}," in result.images[0].infotext


@pytest.mark.parametrize("sampler,schedule,label", [
    ("Euler a", "Automatic", "Automatic"), ("Euler", "Automatic", "Automatic"),
    ("DPM++ 2M", "Automatic", "Karras"), ("DPM++ 2M", "Karras", "Karras"), ("DDIM", "Automatic", "Automatic"),
])
def test_samplers_run_and_are_named_in_infotext(sampler, schedule, label, tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    result = ctx.generation.txt2img(_request(sampler_name=sampler, scheduler=schedule))
    assert np.isfinite(_pixels(result)[0]).all()
    assert f"Sampler: {sampler}, Schedule type: {label}," in result.images[0].infotext


def test_rng_setting_is_recorded_only_when_not_gpu(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    cpu = ctx.generation.txt2img(_request())
    gpu = ctx.generation.txt2img(_request(override_settings={"randn_source": "GPU"}))
    assert ", RNG: CPU," in cpu.images[0].infotext and "RNG" not in gpu.images[0].infotext
    assert ctx.settings.current().get("randn_source") == "CPU", "overrides never persist"
    if ctx.models.loaded.device == "cpu":
        assert np.array_equal(_pixels(cpu)[0], _pixels(gpu)[0]), "on a CPU-only machine both sources agree"
