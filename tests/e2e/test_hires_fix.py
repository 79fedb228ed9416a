"""Hires fix end to end on a tiny SD1 checkpoint: exact final size, A1111's infotext keys, every latent
upscaler and the image upscalers."""
from __future__ import annotations

import pytest

from modules.core.params import Txt2ImgRequest
from modules.core.upscalers import LATENT_UPSCALE_MODES
from tests.conftest import install_checkpoint


@pytest.fixture(scope="module")
def ctx(tiny_checkpoint, tmp_path_factory):
    from modules import bootstrap
    from modules.interfaces import cli
    from tests.conftest import REPO

    from tests.support.tiny_upscalers import write_esrgan

    data_dir = tmp_path_factory.mktemp("hires")
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    write_esrgan(data_dir / "models" / "ESRGAN" / "4x-tiny.pth", seed=1)
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    return bootstrap.create_context(options)


def run(ctx, **fields):
    values = dict(prompt="a cat", steps=2, width=64, height=64, seed=7, sampler_name="Euler", save_images=False,
                  enable_hr=True, hr_second_pass_steps=1)
    values.update(fields)
    return ctx.generation.txt2img(Txt2ImgRequest(**values))


def params_line(result) -> str:
    return result.images[0].infotext.splitlines()[-1]


def test_hires_doubles_the_size_and_writes_its_keys(ctx):
    result = run(ctx, hr_second_pass_steps=2)
    assert result.images[0].image.size == (128, 128)
    line = params_line(result)
    assert "Size: 64x64" in line, "Size is the first pass's"
    assert ("Seed: 7, Size: 64x64, " in line and "Denoising strength: 0.7, " in line
            and line.index("Denoising strength") < line.index("Hires upscale"))
    assert "Hires upscale: 2.0, Hires steps: 2, Hires upscaler: Latent" in line
    assert result.width == 64 and result.height == 64


def test_hires_off_or_same_size_writes_nothing(ctx):
    line = params_line(run(ctx, enable_hr=False))
    assert "Hires" not in line and "Denoising strength" not in line
    same = run(ctx, hr_scale=1.0)
    assert same.images[0].image.size == (64, 64) and "Hires" not in params_line(same)


def test_every_latent_upscaler_runs(ctx):
    for mode in LATENT_UPSCALE_MODES:
        result = run(ctx, hr_upscaler=mode.name, hr_scale=1.5)
        assert result.images[0].image.size == (96, 96), mode.name
        assert f"Hires upscaler: {mode.name}" in params_line(result)


@pytest.mark.parametrize("upscaler", ["Lanczos", "Nearest", "None", "4x-tiny"])  # the last: an ESRGAN model
def test_image_upscalers_run(ctx, upscaler):
    result = run(ctx, hr_upscaler=upscaler)
    assert result.images[0].image.size == (128, 128)
    assert f"Hires upscaler: {upscaler}" in params_line(result)


def test_resize_to_crops_and_optional_keys(ctx):
    result = run(ctx, width=64, height=128, hr_resize_x=128, hr_resize_y=128, hr_sampler_name="Euler a",
                 hr_prompt="a dog", hr_negative_prompt="blurry", denoising_strength=0.5)
    assert result.images[0].image.size == (128, 128)
    line = params_line(result)
    assert "Size: 64x128" in line and "Denoising strength: 0.5" in line
    assert ("Hires sampler: Euler a, Hires prompt: a dog, Hires negative prompt: blurry, Hires resize: 128x128, "
            "Hires steps: 1, Hires upscaler: Latent") in line


def test_unknown_upscaler_is_refused(ctx):
    from modules.core.errors import ModelNotFound, InvalidRequest
    with pytest.raises((ModelNotFound, InvalidRequest)):
        run(ctx, hr_upscaler="No such upscaler")
