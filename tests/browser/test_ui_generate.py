"""A real browser against a real server: no checkpoint notice, drop one in, refresh, generate, read the info."""
from __future__ import annotations

import json
import os
import re

import pytest

from tests.browser.ui_actions import set_numbers
from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")


def test_drop_in_checkpoint_and_generate(page, data_dir, tiny_checkpoint):
    notice = page.locator("#no_checkpoint_notice")
    playwright_api.expect(notice).to_contain_text("No checkpoint found", timeout=30_000)
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    page.locator("#refresh_sd_model_checkpoint").click()
    playwright_api.expect(notice).not_to_contain_text("No checkpoint found", timeout=30_000)
    set_numbers(page, {"txt2img_steps": "3", "txt2img_width": "64", "txt2img_height": "64"})
    page.locator("#txt2img_prompt textarea").fill("a red circle at the top left")
    page.locator("#txt2img_generate").click()
    info = page.locator("#txt2img_generation_info textarea")
    playwright_api.expect(info).to_have_value(re.compile(r"\nSteps: 3, "), timeout=120_000)
    assert info.input_value().splitlines()[-1].startswith("Steps:")
    assert info.input_value().startswith("a red circle at the top left")
    playwright_api.expect(page.locator("#txt2img_gallery img").first).to_be_visible(timeout=30_000)
    if os.environ.get("SCREENSHOT_PATH"):
        page.screenshot(path=os.environ["SCREENSHOT_PATH"], full_page=True)
    saved = list((data_dir / "outputs" / "txt2img-images").rglob("*.png"))
    assert len(saved) == 1 and saved[0].name.endswith(".png")


def test_settings_are_saved_to_config_json_and_used_as_defaults(page, data_dir):
    page.get_by_role("tab", name="Settings").click()
    steps = page.locator("#setting_default_steps input[type=number]")
    steps.fill("31")
    page.locator("#setting_outdir_txt2img_samples textarea, #setting_outdir_txt2img_samples input").first.fill(
        "outputs/my-images")
    page.locator("#settings_submit").click()
    playwright_api.expect(page.locator("#settings_result")).to_contain_text("2 settings changed", timeout=30_000)
    page.reload()
    playwright_api.expect(page.locator("#txt2img_steps input[type=number]")).to_have_value("31", timeout=30_000)
    saved = json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["default_steps"] == 31 and saved["outdir_txt2img_samples"] == "outputs/my-images"
