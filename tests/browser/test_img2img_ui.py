"""The img2img tab in a real browser: sub-tabs and the controls they show, "Send to" from the txt2img gallery,
and (once the generation side has ``img2img``) an inpaint job that keeps the unmasked pixels."""
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


def _choose(page, elem: str, option: str) -> None:
    page.locator(f"#{elem} input").first.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_sub_tabs_show_their_inputs_and_the_inpaint_options(page):
    page.get_by_role("tab", name="img2img", exact=True).click()
    expect(page.locator("#img2img_image")).to_be_visible(timeout=30_000)
    expect(page.locator("#img2img_denoising_strength input[type=number]")).to_have_value("0.75")
    controls = page.locator("#img2img_mask_blur")
    expect(controls).to_be_hidden()
    page.get_by_role("tab", name="Inpaint", exact=True).click()
    expect(page.locator("#img2img_inpaint")).to_be_visible(timeout=10_000)
    expect(controls).to_be_visible(timeout=10_000)
    expect(page.locator("#img2img_mask_blur input[type=number]")).to_have_value("4")
    expect(page.locator("#img2img_inpainting_fill input[value='original']")).to_be_checked()
    page.get_by_role("tab", name="Sketch", exact=True).click()
    expect(page.locator("#img2img_sketch")).to_be_visible(timeout=10_000)
    expect(controls).to_be_hidden(timeout=10_000)
    page.get_by_role("tab", name="Batch", exact=True).click()
    expect(page.locator("#img2img_batch_input_dir")).to_be_visible(timeout=10_000)
    page.get_by_role("tab", name="Resize by", exact=True).click()
    expect(page.locator("#img2img_scale")).to_be_visible(timeout=10_000)
    outpaint = page.locator("#img2img_outpaint_pixels")
    expect(outpaint).to_be_hidden()
    _choose(page, "img2img_script", "Outpainting mk2")
    expect(outpaint).to_be_visible(timeout=10_000)
    expect(page.locator("#img2img_outpaint_color_variation")).to_be_visible()


def _wait_for_page_load(page) -> None:
    """The page-load handler fills the checkpoint list and the default steps; set values only after it ran."""
    expect(page.locator("#sd_model_checkpoint input")).to_have_value(re.compile("tiny"), timeout=30_000)


def test_send_to_moves_the_image_and_its_parameters(page):
    _wait_for_page_load(page)
    for elem, value in (("txt2img_steps", "2"), ("txt2img_width", "64"), ("txt2img_height", "72"),
                        ("txt2img_cfg_scale", "6.5")):
        set_number(page, elem, value)
    page.locator("#txt2img_seed input").fill("321")
    page.locator("#txt2img_prompt textarea").fill("a blue square")
    page.locator("#txt2img_neg_prompt textarea").fill("blurry")
    page.locator("#txt2img_generate").click()
    expect(page.locator("#txt2img_generation_info textarea")).to_have_value(
        re.compile(r"Steps: 2, .*CFG scale: 6.5, Seed: 321, Size: 64x72"), timeout=120_000)
    page.locator("#txt2img_send_to_img2img").click()
    expect(page.locator("#img2img_image img").first).to_be_visible(timeout=30_000)
    expect(page.locator("#img2img_prompt textarea")).to_have_value("a blue square")
    expect(page.locator("#img2img_neg_prompt textarea")).to_have_value("blurry")
    expect(page.locator("#img2img_steps input[type=number]")).to_have_value("2")
    expect(page.locator("#img2img_width input[type=number]")).to_have_value("64")
    expect(page.locator("#img2img_height input[type=number]")).to_have_value("72")
    expect(page.locator("#img2img_cfg_scale input[type=number]")).to_have_value("6.5")
    expect(page.locator("#img2img_seed input")).to_have_value("321")

    page.get_by_role("tab", name="txt2img", exact=True).click()
    page.locator("#txt2img_send_to_inpaint").click()
    expect(page.locator("#img2img_inpaint")).to_be_visible(timeout=30_000)
    expect(page.locator("#img2img_mask_blur")).to_be_visible(timeout=10_000)
    expect(page.locator("#img2img_inpaint canvas").first).to_be_visible(timeout=10_000)

    page.get_by_role("tab", name="txt2img", exact=True).click()
    page.locator("#txt2img_send_to_extras").click()
    expect(page.locator("#extras_image img").first).to_be_visible(timeout=30_000)


def _corners_image(path: Path, size: int = 128) -> Path:
    from PIL import Image

    image = Image.new("RGB", (size, size), (200, 30, 30))
    quarter = size // 4
    for box, colour in (((0, 0, quarter, quarter), (0, 0, 255)), ((size - quarter, 0, size, quarter), (0, 255, 0)),
                        ((0, size - quarter, quarter, size), (255, 255, 0)),
                        ((size - quarter, size - quarter, size, size), (0, 255, 255))):
        image.paste(colour, box)
    image.save(path)
    return path


def _draw_stroke(page, elem: str) -> None:
    """A short horizontal brush stroke through the middle of the editor's canvas."""
    canvas = page.locator(f"#{elem} canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 6, y)
    page.mouse.down()
    for step in range(7):
        page.mouse.move(x - 6 + 2 * step, y, steps=2)
    page.mouse.up()


def _has_img2img() -> bool:
    from modules.core.generation import GenerationService

    return hasattr(GenerationService, "img2img")


@pytest.mark.skipif(not _has_img2img(), reason="GenerationService.img2img comes with the generation side (issue 5)")
def test_inpaint_keeps_the_unmasked_corners(page, data_dir, tmp_path):
    from PIL import Image

    upload = _corners_image(tmp_path / "corners.png")
    _wait_for_page_load(page)
    page.get_by_role("tab", name="img2img", exact=True).click()
    page.get_by_role("tab", name="Inpaint", exact=True).click()
    page.locator("#img2img_inpaint input[type=file]").set_input_files(str(upload))
    expect(page.locator("#img2img_inpaint canvas").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)  # the editor draws the uploaded background before it takes strokes
    _draw_stroke(page, "img2img_inpaint")
    for elem, value in (("img2img_steps", "2"), ("img2img_width", "128"), ("img2img_height", "128"),
                        ("img2img_mask_blur", "0")):
        set_number(page, elem, value)
    page.locator("#img2img_prompt textarea").fill("a tree")
    page.locator("#img2img_generate").click()
    info = page.locator("#img2img_generation_info textarea")
    expect(info).to_have_value(re.compile(r"Steps: 2, .*Size: 128x128"), timeout=180_000)
    saved = list((data_dir / "outputs" / "img2img-images").rglob("*.png"))
    assert len(saved) == 1
    result, original = Image.open(saved[0]).convert("RGB"), Image.open(upload).convert("RGB")
    assert result.size == original.size
    for x, y in ((0, 0), (127, 0), (0, 127), (127, 127), (5, 5), (122, 122)):
        assert result.getpixel((x, y)) == original.getpixel((x, y)), (x, y)
    centre = result.crop((56, 56, 72, 72)).tobytes()
    assert centre != original.crop((56, 56, 72, 72)).tobytes()  # the masked middle was regenerated
