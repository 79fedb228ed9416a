"""The "Extra" checkbox of the txt2img seed row in a real browser: it reveals the variation controls, 🎲 and ♻️
set the variation seed, and the variation values reach the infotext only while "Extra" is ticked."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def test_extra_reveals_variation_controls_and_generation_uses_them(page):
    subseed = page.locator("#txt2img_subseed")
    expect(page.locator("#txt2img_seed")).to_be_visible(timeout=30_000)
    expect(subseed).to_be_hidden()
    page.locator("#txt2img_subseed_show input[type=checkbox]").check()
    expect(subseed).to_be_visible(timeout=10_000)
    for elem in ("txt2img_subseed_strength", "txt2img_seed_resize_from_w", "txt2img_seed_resize_from_h",
                 "txt2img_random_subseed", "txt2img_reuse_subseed"):
        expect(page.locator(f"#{elem}")).to_be_visible()
    box = page.locator("#txt2img_subseed input")
    box.fill("1234")
    page.locator("#txt2img_random_subseed").click()
    expect(box).to_have_value("-1", timeout=10_000)

    for elem, value in (("txt2img_steps", "2"), ("txt2img_width", "64"), ("txt2img_height", "64"),
                        ("txt2img_subseed_strength", "0.5"), ("txt2img_seed_resize_from_w", "96"),
                        ("txt2img_seed_resize_from_h", "32")):
        set_number(page, elem, value)
    page.locator("#txt2img_seed input").fill("77")
    box.fill("300")
    page.locator("#txt2img_generate").click()
    info = page.locator("#txt2img_generation_info textarea")
    expect(info).to_have_value(re.compile(r"Seed: 77, .*Variation seed: 300, Variation seed strength: 0\.5, "
                                          r"Seed resize from: 96x32, "), timeout=120_000)
    page.locator("#txt2img_random_subseed").click()
    expect(box).to_have_value("-1", timeout=10_000)
    page.locator("#txt2img_reuse_subseed").click()
    expect(box).to_have_value("300", timeout=10_000)

    page.locator("#txt2img_subseed_show input[type=checkbox]").uncheck()
    expect(subseed).to_be_hidden(timeout=10_000)
    page.locator("#txt2img_generate").click()
    expect(info).not_to_have_value(re.compile("Variation seed"), timeout=120_000)
    expect(info).to_have_value(re.compile(r"Seed: 77, "))
