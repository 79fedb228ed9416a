"""A txt2img run in the browser shows progress and live previews before the final image."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.ui_actions import set_numbers
from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server_data(data_dir, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.json").write_text(json.dumps({"show_progress_every_n_steps": 1,
                                                                  "default_steps": 150}), encoding="utf-8")
    return data_dir


def test_progress_and_a_live_preview_before_the_final_image(page):
    playwright_api.expect(page.locator("#txt2img_steps input[type=number]")).to_have_value("150", timeout=30_000)
    set_numbers(page, {"txt2img_width": "128", "txt2img_height": "128"})  # ~0.15 s a step here: watchable
    page.locator("#txt2img_prompt textarea").fill("a blue square")
    page.locator("#txt2img_generate").click()
    gallery = page.locator("#txt2img_gallery")
    playwright_api.expect(gallery).to_contain_text(re.compile(r"Step \d+/150"), timeout=120_000)
    playwright_api.expect(gallery).to_contain_text("Preview", timeout=60_000)
    info = page.locator("#txt2img_generation_info textarea")
    assert "Steps: 150" not in info.input_value(), "the preview came before the final image"
    playwright_api.expect(info).to_have_value(re.compile(r"\nSteps: 150, "), timeout=300_000)
    playwright_api.expect(gallery).to_contain_text("Seed", timeout=30_000)
    playwright_api.expect(gallery).not_to_contain_text("Preview")
