"""X/Y/Z plot in a real browser: choose the script, 2 samplers x 2 CFG values, generate, see the grid first."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from modules.core.png_info import read_png_parameters
from tests.browser.ui_actions import set_number
from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def server_data(data_dir, tiny_checkpoint) -> Path:
    """One tiny SD1 checkpoint in A1111's folder."""
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    return data_dir


def _choose(page, elem: str, option: str) -> None:
    box = page.locator(f"#{elem} input").first
    box.click()
    page.locator(f"#{elem}").get_by_role("option", name=option, exact=True).click()
    box.press("Escape")


def test_xyz_plot_of_samplers_and_cfg_shows_the_grid(page, data_dir):
    expect(page.locator("#sd_model_checkpoint input")).to_have_value(re.compile("tiny"), timeout=30_000)
    for elem, value in (("txt2img_steps", "2"), ("txt2img_width", "64"), ("txt2img_height", "64")):
        set_number(page, elem, value)
    page.locator("#txt2img_seed input").fill("7")
    page.locator("#txt2img_prompt textarea").fill("a green square")
    x_values = page.locator("#script_txt2img_x_y_z_plot_x_values textarea")
    expect(x_values).to_be_hidden()
    _choose(page, "txt2img_script", "X/Y/Z plot")
    expect(x_values).to_be_visible(timeout=10_000)
    _choose(page, "script_txt2img_x_y_z_plot_x_type", "Sampler")
    x_values.fill("Euler, DDIM")
    _choose(page, "script_txt2img_x_y_z_plot_y_type", "CFG Scale")
    page.locator("#script_txt2img_x_y_z_plot_y_values textarea").fill("3, 7")
    page.locator("#txt2img_generate").click()
    info = page.locator("#txt2img_generation_info textarea")
    expect(info).to_have_value(re.compile(r"Script: X/Y/Z plot, X Type: Sampler"), timeout=180_000)
    expect(page.locator("#txt2img_gallery img").first).to_be_visible(timeout=30_000)
    assert "Seed: 7," in info.input_value()
    grids = list((data_dir / "outputs" / "txt2img-grids").rglob("xyz_grid-*.png"))
    assert len(grids) == 1
    with Image.open(grids[0]) as grid:
        assert grid.width > 128 and grid.height > 128  # 2x2 cells of 64 plus the headers
    assert "Y Type: CFG Scale" in read_png_parameters(grids[0])
    assert len(list((data_dir / "outputs" / "txt2img-images").rglob("*.png"))) == 4
