"""Prompt matrix and Prompts from file on the real backend (tiny SD1, 64x64, 2 steps)."""
from __future__ import annotations

import numpy as np

from modules.core.params import Txt2ImgRequest
from modules.core.png_info import read_png_parameters
from modules.core.scripts.base import ScriptServices
from modules.core.scripts.registry import args_from_api, find_script, run_script
from tests.conftest import install_checkpoint


def _request(**overrides) -> Txt2ImgRequest:
    base = dict(prompt="a cat|red|hat", steps=2, sampler_name="Euler", cfg_scale=7, width=64, height=64, seed=9)
    base.update(overrides)
    return Txt2ImgRequest(**base)


def _run(ctx, title, request, script_args):
    script = find_script(title, "txt2img")
    return run_script(ScriptServices.from_context(ctx), script, request,
                      args_from_api(script, script_args, "txt2img"))


def test_prompt_matrix_makes_every_combination_in_a_grid(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    result = _run(ctx, "prompt matrix", _request(), [])
    prompts = [img.infotext.splitlines()[0] for img in result.images]
    assert prompts == ["a cat", "a cat, red", "a cat, hat", "a cat, red, hat"]
    assert {img.seed for img in result.images} == {9}
    assert result.grid.path.name == "prompt_matrix-0000.png"
    assert result.grid.image.width == 128 + 48 and result.grid.image.height > 128
    assert "Script: Prompt matrix" in read_png_parameters(result.grid.path)
    assert not np.array_equal(np.asarray(result.images[0].image), np.asarray(result.images[3].image))


def test_prompts_from_textbox_run_one_generation_per_line(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    lines = 'a red ball\n--prompt "a blue box" --steps 3 --cfg_scale 4 --seed 11 --sampler_name DDIM --width 72'
    result = _run(ctx, "prompts from file or textbox", _request(prompt=""), [False, False, "start", lines])
    assert result.grid is None and len(result.images) == 2
    first, second = (img.infotext for img in result.images)
    assert first.startswith("a red ball\n") and "Seed: 9," in first and "Steps: 2," in first
    assert second.startswith("a blue box\n")
    assert "Steps: 3, Sampler: DDIM" in second and "CFG scale: 4.0" in second and "Seed: 11," in second
    assert "Size: 72x64" in second
    assert len(list((data_dir / "outputs" / "txt2img-images").rglob("*.png"))) == 2
