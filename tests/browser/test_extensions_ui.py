"""The example extension in a real browser: enabled, it adds its tab and its control, and its hook changes the
image; the Extensions tab lists it."""
from __future__ import annotations

import json
import re
import shutil

import pytest
from PIL import Image

from tests.browser.ui_actions import set_numbers
from tests.conftest import REPO, install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server_data(data_dir, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    shutil.copytree(REPO / "extensions" / "example-frame", data_dir / "extensions" / "example-frame")
    (data_dir / "config.json").write_text(json.dumps({"enabled_extensions": ["example-frame"],
                                                      "default_steps": 2}), encoding="utf-8")
    return data_dir


def test_the_example_extension_adds_its_control_and_its_hook_frames_the_image(page, data_dir):
    expect = playwright_api.expect
    page.get_by_role("tab", name="Extensions").click()
    expect(page.locator("#extensions_installed_table")).to_contain_text("example-frame", timeout=30_000)
    expect(page.locator("#extensions_installed_table")).to_contain_text("loaded")
    page.get_by_role("tab", name="Example").click()
    expect(page.get_by_text("The example extension is loaded")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="txt2img").click()
    set_numbers(page, {"txt2img_width": "64", "txt2img_height": "64"})
    page.locator("#txt2img_ext_example-frame").get_by_text("Example: frame").click()
    page.locator("#txt2img_example_frame_enabled input").check()
    page.locator("#txt2img_prompt textarea").fill("a green triangle")
    page.locator("#txt2img_generate").click()
    info = page.locator("#txt2img_generation_info textarea")
    expect(info).to_have_value(re.compile(r"Frame: red 4px"), timeout=120_000)
    saved = list((data_dir / "outputs" / "txt2img-images").rglob("*.png"))
    assert len(saved) == 1
    with Image.open(saved[0]) as image:
        assert image.convert("RGB").getpixel((0, 0)) == (220, 30, 30)
        assert "Frame: red 4px" in image.text["parameters"]
