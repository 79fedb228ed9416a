"""The PNG Info tab in a real browser: drop an image written by our own writer, see its parameters (escaped), send
them to txt2img (the issue's acceptance item), and the "↙" paste button of img2img."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from modules.core.infotext import format_infotext, order_fields
from modules.core.output_writer import OutputWriter
from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

FIXED = {"Steps": 14, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 6.5, "Seed": 987,
         "Size": "96x64", "Model hash": "0123456789", "Model": "tiny", "Clip skip": 2, "RNG": "CPU"}
PROMPT, NEGATIVE = "a <lora:detail:0.6> cabin, <b>snow</b>", "blurry, lowres"


@pytest.fixture
def server_data(data_dir, tiny_checkpoint) -> Path:
    """One tiny SD1 checkpoint in A1111's folder."""
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    return data_dir


def _wait_for_page_load(page) -> None:
    """The page-load handler sets the default steps; paste only after it ran."""
    expect(page.locator("#sd_model_checkpoint input")).to_have_value(re.compile("tiny"), timeout=30_000)


def _written_image(data_dir: Path) -> Path:
    text = format_infotext(PROMPT, NEGATIVE, order_fields(FIXED, [("Lora hashes", "detail: 0123456789ab")],
                                                          "ourapp-0.1.0"))
    writer = OutputWriter(data_dir)
    return writer.save_named_png(Image.new("RGB", (96, 64), (40, 90, 160)), data_dir / "outputs" / "made",
                                 texts={"parameters": text}, name="cabin")


def _value(page, elem: str, kind: str = "input[type=number]"):
    return expect(page.locator(f"#{elem} {kind}").first)


def test_pnginfo_shows_parameters_and_sends_them_to_txt2img(page, data_dir, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 800})
    upload = _written_image(data_dir)
    _wait_for_page_load(page)
    page.get_by_role("tab", name="PNG Info", exact=True).click()
    page.locator("#pnginfo_image input[type=file]").set_input_files(str(upload))
    shown = page.locator("#pnginfo_html")
    expect(shown).to_contain_text("Steps: 14, Sampler: DPM++ 2M, Schedule type: Karras", timeout=30_000)
    expect(shown).to_contain_text("<b>snow</b>")  # the file's text is shown, never rendered as HTML
    expect(shown.locator("b")).to_have_count(0)
    page.wait_for_timeout(500)
    page.screenshot(path=str(tmp_path / "pnginfo.png"))

    page.locator("#pnginfo_send_to_txt2img").click()
    expect(page.locator("#txt2img_prompt textarea")).to_have_value(PROMPT, timeout=30_000)
    expect(page.locator("#txt2img_neg_prompt textarea")).to_have_value(NEGATIVE)
    _value(page, "txt2img_steps").to_have_value("14")
    _value(page, "txt2img_sampling", "input").to_have_value("DPM++ 2M")
    _value(page, "txt2img_scheduler", "input").to_have_value("Karras")
    _value(page, "txt2img_cfg_scale").to_have_value("6.5")
    _value(page, "txt2img_seed", "input").to_have_value("987")
    _value(page, "txt2img_width").to_have_value("96")
    _value(page, "txt2img_height").to_have_value("64")
    expect(page.locator("#txt2img_override_settings")).to_contain_text("Clip skip: 2")


def test_send_to_img2img_and_the_paste_button(page, data_dir):
    upload = _written_image(data_dir)
    _wait_for_page_load(page)
    page.get_by_role("tab", name="PNG Info", exact=True).click()
    page.locator("#pnginfo_image input[type=file]").set_input_files(str(upload))
    expect(page.locator("#pnginfo_html")).to_contain_text("Seed: 987", timeout=30_000)
    page.locator("#pnginfo_send_to_img2img").click()
    expect(page.locator("#img2img_image img").first).to_be_visible(timeout=30_000)
    expect(page.locator("#img2img_prompt textarea")).to_have_value(PROMPT)
    _value(page, "img2img_seed", "input").to_have_value("987")

    pasted = "a red hut\nNegative prompt: fog\nSteps: 9, Sampler: Euler a, CFG scale: 4, Seed: 55, Size: 128x80, " \
             "Denoising strength: 0.35"
    page.locator("#img2img_prompt textarea").fill(pasted)
    page.locator("#img2img_paste").click()
    expect(page.locator("#img2img_prompt textarea")).to_have_value("a red hut", timeout=30_000)
    expect(page.locator("#img2img_neg_prompt textarea")).to_have_value("fog")
    _value(page, "img2img_steps").to_have_value("9")
    _value(page, "img2img_sampling", "input").to_have_value("Euler a")
    _value(page, "img2img_seed", "input").to_have_value("55")
    _value(page, "img2img_width").to_have_value("128")
    _value(page, "img2img_denoising_strength").to_have_value("0.35")
    expect(page.locator("#img2img_override_settings")).to_contain_text(re.compile("RNG: GPU"))


def test_pasted_clip_skip_reaches_the_generation(page):
    _wait_for_page_load(page)
    prompt = page.locator("#txt2img_prompt textarea")
    prompt.fill("a green square\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 4242, Size: 64x64, Clip skip: 2, "
                "RNG: CPU")
    page.locator("#txt2img_paste").click()
    expect(prompt).to_have_value("a green square", timeout=30_000)
    chips = page.locator("#txt2img_override_settings")
    expect(chips).to_contain_text("Clip skip: 2")
    page.locator("#txt2img_generate").click()
    expect(page.locator("#txt2img_generation_info textarea")).to_have_value(
        re.compile(r"^a green square\nSteps: 2, Sampler: Euler, .*Seed: 4242, Size: 64x64, .*Clip skip: 2"),
        timeout=120_000)
    # "↙" with a plain prompt reads the last generation back
    prompt.fill("something else")
    page.locator("#txt2img_paste").click()
    expect(prompt).to_have_value("a green square", timeout=30_000)
