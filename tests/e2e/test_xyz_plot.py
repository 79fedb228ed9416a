"""X/Y/Z plot on the real backend with tiny checkpoints: one job, labelled grid, per-cell infotexts, checkpoint
axis switching models and putting the selection back."""
from __future__ import annotations

import numpy as np
import pytest

from modules.core.errors import InvalidRequest, ModelNotFound, SamplerNotFound
from modules.core.grid_labels import GridLabel, plan_labels
from modules.core.params import Txt2ImgRequest
from modules.core.png_info import read_png_parameters
from modules.core.scripts.base import ScriptServices
from modules.core.scripts.registry import args_from_api, find_script, run_script
from tests.conftest import install_checkpoint

SAMPLERS = ("Euler", "DDIM")
CFGS = (3.0, 7.0)


def _request(**overrides) -> Txt2ImgRequest:
    base = dict(prompt="a red circle", steps=2, sampler_name="Euler", cfg_scale=7, width=64, height=64, seed=42)
    base.update(overrides)
    return Txt2ImgRequest(**base)


def _xyz(ctx, request, **args):
    script = find_script("X/Y/Z plot", "txt2img")
    return run_script(ScriptServices.from_context(ctx), script, request, {**script.defaults(), **args})


def test_samplers_by_cfg_make_a_labelled_2x2_grid(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    result = _xyz(ctx, _request(), x_type="Sampler", x_values="Euler, DDIM", y_type="CFG Scale",
                  y_values="3, 7", include_lone_images=True)
    layout = plan_labels((64, 64), [[GridLabel(f"{s}")] for s in SAMPLERS],
                         [[GridLabel(f"CFG Scale: {c}")] for c in CFGS])
    grid = result.grid.image
    assert grid.size == (layout.left + 128, layout.top + 128)
    assert result.index_of_first_image == 1 and len(result.images) == 4
    assert result.grid.path.name == "xyz_grid-0000.png"
    grid_text = read_png_parameters(result.grid.path)
    assert "Script: X/Y/Z plot" in grid_text and "X Type: Sampler" in grid_text
    assert grid_text.startswith(result.images[0].infotext)
    for iy, cfg in enumerate(CFGS):
        for ix, sampler in enumerate(SAMPLERS):
            cell = result.images[iy * 2 + ix]
            single = ctx.generation.txt2img(_request(sampler_name=sampler, cfg_scale=cfg, save_images=False))
            expected = np.asarray(single.images[0].image.convert("RGB"))
            assert np.array_equal(np.asarray(cell.image.convert("RGB")), expected), (sampler, cfg)
            box = (layout.left + ix * 64, layout.top + iy * 64, layout.left + ix * 64 + 64, layout.top + iy * 64 + 64)
            assert np.array_equal(np.asarray(grid.crop(box)), expected)
            saved = read_png_parameters(cell.path)
            assert f"Sampler: {sampler}," in saved and f"CFG scale: {cfg}," in saved and "Seed: 42," in saved
    cells = sorted((data_dir / "outputs" / "txt2img-images").rglob("*.png"))
    assert len(cells) == 4
    assert not list((data_dir / "outputs" / "txt2img-grids").rglob("grid-*.png")), "cells make no job grids"


def test_bad_names_fail_before_any_work(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    with pytest.raises(SamplerNotFound):
        _xyz(ctx, _request(), x_type="Sampler", x_values="Euler, Nope")
    with pytest.raises(ModelNotFound):
        _xyz(ctx, _request(), x_type="Checkpoint name", x_values="missing")
    with pytest.raises(InvalidRequest):
        _xyz(ctx, _request(), x_type="Steps", x_values="2, many")
    assert ctx.models.loaded is None, "nothing was loaded"
    assert not (data_dir / "outputs" / "txt2img-images").exists()


def test_checkpoint_axis_switches_and_restores(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, "beta.safetensors")
    ctx = make_context()
    ctx.models.select_checkpoint("alpha")
    script = find_script("x/y/z plot", "txt2img")
    args = args_from_api(script, [11, "beta, alpha", [], 4, "2", [], 0, "", [], True, True], "txt2img")
    result = run_script(ScriptServices.from_context(ctx), script, _request(seed=-1), args)
    names = [img.infotext for img in result.images]
    assert "Model: beta," in names[0] and "Model: alpha," in names[1]
    seeds = {img.seed for img in result.images}
    assert len(seeds) == 1, "a -1 seed is resolved once for every cell"
    assert ctx.models.loaded.record.stem == "alpha"
    assert ctx.settings.current().get("sd_model_checkpoint").startswith("alpha")


def test_img2img_denoising_axis(tiny_checkpoint, make_context, data_dir):
    from PIL import Image

    from modules.core.params import Img2ImgRequest
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    script = find_script("x/y/z plot", "img2img")
    request = Img2ImgRequest(prompt="a cat", init_images=(Image.new("RGB", (64, 64), "red"),), steps=2,
                             sampler_name="Euler", width=64, height=64, seed=3)
    args = args_from_api(script, ["Denoising", "0.5, 1.0", [], "Nothing", "", [], "Nothing", "", [], False, True],
                         "img2img")
    result = run_script(ScriptServices.from_context(ctx), script, request, args)
    assert result.grid.image.size == (128, 64), "no legend: just the cells"
    texts = [img.infotext for img in result.images]
    assert "Denoising strength: 0.5" in texts[0] and "Denoising strength: 1.0" in texts[1]
    assert result.grid.path.parent.parent.name == "img2img-grids"
