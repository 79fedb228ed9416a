"""A real browser on a real server: settings (tab and quick settings) survive a restart, search filters the tab,
Ctrl+Enter generates and Esc interrupts."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, running_webui
from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def browser():
    """A headless Chromium with this machine's offline-safe flags."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def number_box(page, elem_id: str):
    return page.locator(f"#{elem_id} input[type=number]")


def set_number(page, elem_id: str, value: str) -> None:
    box = number_box(page, elem_id)
    box.fill(value)
    box.press("Enter")


def test_changed_settings_survive_a_server_restart(browser, data_dir, tmp_path):
    data_dir.mkdir(parents=True)
    (data_dir / "config.json").write_text(json.dumps({"quicksettings": "sd_model_checkpoint,CLIP_stop_at_last_layers"}),
                                          encoding="utf-8")
    with running_webui(data_dir, tmp_path / "first.log") as url:
        page = browser.new_page()
        page.goto(url)
        status = page.locator("#model_status textarea, #model_status input").first
        for attempt in range(3):  # typing before the page-load handler has filled the controls can be undone
            set_number(page, "setting_CLIP_stop_at_last_layers", "3")  # the quick setting in the top bar
            try:
                expect(status).to_have_value("Clip skip: 3 (saved)", timeout=10_000)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        page.get_by_role("tab", name="Settings").click()
        number_box(page, "setting_eta_ddim").fill("0.4")
        page.locator("#setting_samples_save input[type=checkbox]").uncheck()
        page.locator("#settings_submit").click()
        expect(page.locator("#settings_result")).to_contain_text("2 settings changed", timeout=30_000)
        page.close()
    saved = json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
    assert (saved["eta_ddim"], saved["samples_save"], saved["CLIP_stop_at_last_layers"]) == (0.4, False, 3)
    with running_webui(data_dir, tmp_path / "second.log") as url:
        page = browser.new_page()
        page.goto(url)
        expect(number_box(page, "setting_CLIP_stop_at_last_layers")).to_have_value("3", timeout=30_000)
        page.get_by_role("tab", name="Settings").click()
        expect(number_box(page, "setting_eta_ddim")).to_have_value("0.4", timeout=30_000)
        expect(page.locator("#setting_samples_save input[type=checkbox]")).not_to_be_checked()
        page.close()


def test_search_filters_settings_and_pages_navigate(browser, data_dir, tmp_path):
    with running_webui(data_dir, tmp_path / "server.log") as url:
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Settings").click()
        clip, eta = page.locator("#setting_CLIP_stop_at_last_layers"), page.locator("#setting_eta_ddim")
        expect(clip).to_be_visible(timeout=30_000)
        page.locator("#settings_search textarea, #settings_search input").first.fill("clip skip")
        expect(eta).to_be_hidden(timeout=30_000)
        expect(clip).to_be_visible()
        expect(page.locator("#settings_page_sampler_parameters")).to_be_hidden()
        page.locator("#settings_search textarea, #settings_search input").first.fill("")
        page.locator("#settings_pages").get_by_text("Sampler parameters", exact=True).click()
        expect(eta).to_be_visible(timeout=30_000)
        expect(clip).to_be_hidden()
        page.locator("#settings_pages").get_by_text("Show all pages", exact=True).click()
        expect(clip).to_be_visible(timeout=30_000)
        # an out-of-range value is named with its label and key, and nothing is saved
        number_box(page, "setting_eta_noise_seed_delta").fill("-1")  # a number box (sliders clamp themselves)
        number_box(page, "setting_eta_ancestral").fill("0.5")
        page.locator("#settings_submit").click()
        result = page.locator("#settings_result")
        expect(result).to_contain_text("Nothing was changed", timeout=30_000)
        expect(result).to_contain_text("Eta noise seed delta (ENSD) (eta_noise_seed_delta): -1 is below the minimum 0")
        assert not (data_dir / "config.json").exists()
        page.close()


def test_ctrl_enter_generates_and_esc_interrupts(browser, data_dir, tmp_path, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    with running_webui(data_dir, tmp_path / "server.log") as url:
        page = browser.new_page()
        page.goto(url)
        # the page-load handler sets the default steps: wait for it (the checkpoint list is filled by it too)
        expect(page.locator("#sd_model_checkpoint input")).to_have_value(re.compile("tiny"), timeout=30_000)
        for elem, value in (("txt2img_steps", "2"), ("txt2img_width", "64"), ("txt2img_height", "64")):
            set_number(page, elem, value)
        prompt = page.locator("#txt2img_prompt textarea")
        prompt.fill("a blue square")
        prompt.press("Control+Enter")
        info = page.locator("#txt2img_generation_info textarea")
        expect(info).to_have_value(re.compile(r"\nSteps: 2, "), timeout=120_000)
        assert info.input_value().startswith("a blue square")
        # Esc presses the visible tab's Interrupt button
        page.evaluate("""() => { window.interrupts = 0;
            document.getElementById('txt2img_interrupt').addEventListener('click', () => window.interrupts++); }""")
        page.keyboard.press("Escape")
        assert page.evaluate("window.interrupts") == 1
        page.get_by_role("tab", name="img2img").click()
        page.evaluate("""() => { document.getElementById('img2img_interrupt').addEventListener('click',
            () => window.interrupts += 10); }""")
        page.keyboard.press("Escape")
        assert page.evaluate("window.interrupts") == 11
        page.close()
