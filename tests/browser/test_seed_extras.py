"""The "Extra" checkbox of the txt2img seed row in a real browser: it reveals the variation controls; 🎲 resets."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")


def test_extra_reveals_variation_seed_controls(page):
    expect = playwright_api.expect
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
    page.locator("#txt2img_subseed_show input[type=checkbox]").uncheck()
    expect(subseed).to_be_hidden(timeout=10_000)
