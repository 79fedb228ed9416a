"""A real browser merges two checkpoints on the Checkpoint Merger tab; the result is listed and on disk."""
from __future__ import annotations

import os
import re

import pytest

from tests.conftest import install_checkpoint
from tests.support.tiny_models import build_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def server_data(data_dir, tiny_checkpoint):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    build_checkpoint("sd15", folder / "b.safetensors", seed=21)
    return data_dir


def _choose(page, elem: str, name: str) -> None:
    page.locator(f"#{elem} input").first.click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}( \[|$)")).last.click()
    page.keyboard.press("Escape")


def test_merge_two_checkpoints_through_the_page(page, server_data):
    page.get_by_role("tab", name="Checkpoint Merger", exact=True).click()
    _choose(page, "modelmerger_primary_model_name", "a.safetensors")
    _choose(page, "modelmerger_secondary_model_name", "b.safetensors")
    page.get_by_role("radio", name="Add difference").click()
    expect(page.locator("#modelmerger_interp_description")).to_contain_text("A + (B - C) * M")
    page.get_by_role("radio", name="Weighted sum").click()
    page.locator("#modelmerger_custom_name textarea, #modelmerger_custom_name input").first.fill("browser-mix")
    page.locator("#modelmerger_merge").click()
    expect(page.locator("#modelmerger_result")).to_contain_text("Checkpoint saved to", timeout=120_000)
    expect(page.locator("#modelmerger_result")).to_contain_text("browser-mix.safetensors")
    assert (server_data / "models" / "Stable-diffusion" / "browser-mix.safetensors").is_file()
    if os.environ.get("MERGER_SCREENSHOT"):
        page.screenshot(path=os.environ["MERGER_SCREENSHOT"], full_page=True)
    page.locator("#modelmerger_tertiary_model_name input").first.click()
    expect(page.get_by_role("option", name=re.compile(r"^browser-mix\.safetensors")).last).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#modelmerger_merge").click()
    expect(page.locator(".toast-body, .toast-wrap").first).to_contain_text("already exists", timeout=60_000)
