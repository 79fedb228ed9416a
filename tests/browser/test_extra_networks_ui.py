"""A real browser on a real server: the Extra networks cards edit the prompt, the SD VAE and checkpoint choices stick."""
from __future__ import annotations

import doctest
import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.browser.ui_actions import set_numbers
from tests.conftest import install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


HOSTILE = "<img src=x onerror=window.__xss=1>"


@pytest.fixture
def server_data(data_dir, tiny_checkpoint) -> Path:
    """Two checkpoints, two LoRAs (one with an alias), an embedding and a VAE, in A1111's folders."""
    from tests.support.tiny_addons import build_embedding, build_kohya_lora
    from tests.support.tiny_models import build_vae_file

    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, "tiny.safetensors")
    build_kohya_lora("sd15", data_dir / "models" / "Lora" / "detail.safetensors")
    build_kohya_lora("sd15", data_dir / "models" / "Lora" / "style.safetensors", seed=1,
                     metadata={"ss_output_name": "painterly"})
    build_embedding("sd15", data_dir / "embeddings" / "shiny.safetensors")
    build_vae_file(data_dir / "models" / "VAE" / "soft.safetensors")
    # file names are attacker-controlled text: these must show as text, never run (spec 2.10)
    build_kohya_lora("sd15", data_dir / "models" / "Lora" / f"{HOSTILE}.safetensors", seed=3)
    build_embedding("sd15", data_dir / "embeddings" / f"{HOSTILE}.safetensors")
    build_vae_file(data_dir / "models" / "VAE" / f"{HOSTILE}.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, f"{HOSTILE}.safetensors")
    settings = {"sd_model_checkpoint": "alpha.safetensors", "sd_checkpoints_limit": 2}
    (data_dir / "config.json").write_text(json.dumps(settings), encoding="utf-8")
    return data_dir


def _open_list(page, tab: str):
    page.get_by_role("tab", name=tab, exact=True).click()


def _card(page, elem_id: str, label: str):
    return page.locator(f"#{elem_id}").get_by_role("button", name=label, exact=True)


def _search(page, text: str) -> None:
    page.locator("#extra_networks_search input, #extra_networks_search textarea").first.fill(text)


def _saved_setting(data_dir: Path, key: str, timeout: float = 20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            saved = json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
            if key in saved:
                return saved[key]
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    return None


def _screenshot_with_an_image(page, path: str) -> None:
    """For docs/screenshot.png: generate a small image with the prompt the cards made, Lora list open."""
    set_numbers(page, {"txt2img_steps": "3", "txt2img_width": "64", "txt2img_height": "64"})
    page.locator("#txt2img_generate").click()
    info = page.locator("#txt2img_generation_info textarea")
    expect(info).to_have_value(re.compile(r"Lora hashes"), timeout=120_000)
    _open_list(page, "Lora")
    page.screenshot(path=path, full_page=True)


def test_prompt_editing_doctests():
    from modules.interfaces.gradio_ui import extra_networks

    assert doctest.testmod(extra_networks).failed == 0


def test_lora_and_embedding_cards_edit_the_prompt(page):
    prompt = page.locator("#txt2img_prompt textarea")
    prompt.fill("a cat")
    page.locator("#extra_networks").get_by_text("Extra networks").click()
    _open_list(page, "Lora")
    _search(page, "det")
    expect(_card(page, "extra_networks_lora", "detail")).to_be_visible(timeout=30_000)
    expect(_card(page, "extra_networks_lora", "style")).to_have_count(0)
    _card(page, "extra_networks_lora", "detail").click()
    expect(prompt).to_have_value(re.compile(r"<lora:detail:1>$"), timeout=30_000)
    assert prompt.input_value() == "a cat <lora:detail:1>"
    _card(page, "extra_networks_lora", "detail").click()
    expect(prompt).to_have_value("a cat", timeout=30_000)
    _card(page, "extra_networks_lora", "detail").click()
    expect(prompt).to_have_value("a cat <lora:detail:1>", timeout=30_000)

    _search(page, "paint")  # the alias from ss_output_name finds style.safetensors and is what the tag uses
    _card(page, "extra_networks_lora", "style").click()
    expect(prompt).to_have_value("a cat <lora:detail:1> <lora:painterly:1>", timeout=30_000)

    _search(page, "no such name")
    expect(page.locator("#extra_networks_lora_hint")).to_contain_text("Nothing listed", timeout=30_000)
    _search(page, "")
    expect(page.locator("#extra_networks_lora_hint")).to_be_hidden(timeout=30_000)
    _open_list(page, "Textual Inversion")
    _card(page, "extra_networks_ti", "shiny").click()
    expect(prompt).to_have_value(re.compile(r" shiny$"), timeout=30_000)
    if os.environ.get("EXTRA_NETWORKS_SCREENSHOT"):
        _screenshot_with_an_image(page, os.environ["EXTRA_NETWORKS_SCREENSHOT"])


def test_sd_vae_dropdown_saves_the_setting(page, server_data):
    vae = page.locator("#sd_vae input")
    expect(vae).to_have_value("Automatic", timeout=30_000)
    vae.click()
    page.get_by_role("option", name="soft.safetensors", exact=True).click()
    expect(page.locator("#model_status input, #model_status textarea").first).to_have_value(
        re.compile("SD VAE: soft.safetensors"), timeout=30_000)
    assert _saved_setting(server_data, "sd_vae") == "soft.safetensors"
    page.get_by_role("tab", name="Settings").click()  # built before the VAE was chosen: must not undo it
    page.locator("#setting_default_steps input[type=number]").fill("25")
    page.locator("#settings_submit").click()
    expect(page.locator("#settings_result")).to_contain_text("1 settings changed", timeout=30_000)
    assert _saved_setting(server_data, "sd_vae") == "soft.safetensors"
    assert _saved_setting(server_data, "default_steps") == 25
    page.reload()
    expect(page.locator("#sd_vae input")).to_have_value("soft.safetensors", timeout=30_000)


def test_checkpoint_cards_select_and_report_the_load(page):
    status = page.locator("#model_status input, #model_status textarea").first
    page.locator("#extra_networks").get_by_text("Extra networks").click()
    _open_list(page, "Checkpoints")
    _card(page, "extra_networks_checkpoints", "tiny").click()
    expect(status).to_have_value(re.compile(r"^Loaded tiny\.safetensors in \d+\.\d s$"), timeout=120_000)
    expect(page.locator("#sd_model_checkpoint input")).to_have_value(re.compile(r"^tiny\.safetensors"))
    _card(page, "extra_networks_checkpoints", "alpha").click()
    expect(status).to_have_value(re.compile(r"^Switched to alpha\.safetensors in \d+\.\d\d s \(cached\)$"),
                                 timeout=120_000)
    expect(page.locator("#sd_model_checkpoint input")).to_have_value(re.compile(r"^alpha\.safetensors"))


def test_hostile_file_names_show_as_text_and_never_run(page):
    """Spec 2.10: LoRA, embedding, VAE and checkpoint files named like HTML appear as plain text in the cards and
    dropdowns; the markup never becomes an element and its handler never runs."""
    page.locator("#extra_networks").get_by_text("Extra networks").click()
    for tab, elem_id in (("Lora", "extra_networks_lora"), ("Textual Inversion", "extra_networks_ti"),
                         ("Checkpoints", "extra_networks_checkpoints")):
        _open_list(page, tab)
        expect(_card(page, elem_id, HOSTILE)).to_be_visible(timeout=30_000)
    page.locator("#sd_vae input").click()
    expect(page.get_by_role("option", name=f"{HOSTILE}.safetensors", exact=True)).to_be_visible(timeout=30_000)
    page.keyboard.press("Escape")
    page.locator("#sd_model_checkpoint input").click()
    expect(page.get_by_role("option", name=re.compile(re.escape(HOSTILE)))).to_be_visible(timeout=30_000)
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[onerror]").count() == 0
