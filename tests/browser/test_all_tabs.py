"""Every tab of the page opens without an error, at 1280x800 and 1920x1080; a screenshot of each is written to
the test's folder (and to ``$SCREENSHOT_DIR`` when set, e.g. ``docs/`` for the README)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
SIZES = ((1280, 800), (1920, 1080))
BUILT_IN = ("txt2img", "img2img", "Extras", "Settings", "Extensions")


@pytest.fixture
def server_data(data_dir, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    return data_dir


def test_every_tab_opens_at_two_window_sizes(page, tmp_path):
    tabs = page.locator("#tabs").get_by_role("tab")
    playwright_api.expect(tabs.first).to_be_visible(timeout=60_000)
    names = [name.strip() for name in tabs.all_inner_texts()]
    assert set(BUILT_IN) <= set(names), names
    folders = [tmp_path] + ([Path(os.environ["SCREENSHOT_DIR"])] if os.environ.get("SCREENSHOT_DIR") else [])
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for name in names:
            page.locator("#tabs").get_by_role("tab", name=name, exact=True).click()
            panel = page.locator("#tabs [role=tabpanel]:visible").first
            playwright_api.expect(panel).to_be_visible(timeout=30_000)
            assert not page.locator(".toast-body.error").count(), f"an error toast on {name}"
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            for folder in folders:
                page.screenshot(path=str(folder / f"tab-{slug}-{width}x{height}.png"))
    shots = sorted(p.name for p in tmp_path.glob("tab-*.png"))
    assert len(shots) == len(names) * len(SIZES)
