"""A real browser on a real server: the prompt boxes' token counters and Ctrl+Up/Down weight editing."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import REPO, install_checkpoint

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

# (text, selection start, selection end, up) -> (text, selection start, selection end) or None (no change)
WEIGHT_CASES = [
    # a selection is wrapped with weight 1.1 / 0.9
    (("a cat here", 2, 5, True), ("a (cat:1.1) here", 3, 6)),
    (("a cat here", 2, 5, False), ("a (cat:0.9) here", 3, 6)),
    (("a red cat", 2, 9, True), ("a (red cat:1.1)", 3, 10)),
    (("a cat  here", 2, 7, True), ("a (cat:1.1)  here", 3, 6)),  # trailing spaces stay outside
    # an existing weight moves by 0.1; back at 1.0 the brackets go
    (("a (cat:1.1) here", 3, 6, True), ("a (cat:1.2) here", 3, 6)),
    (("a (cat:1.1) here", 3, 6, False), ("a cat here", 2, 5)),
    (("(cat:0.9)", 1, 4, True), ("cat", 0, 3)),
    (("(cat:1.9)", 1, 4, True), ("(cat:2.0)", 1, 4)),
    (("(cat:0.1)", 1, 4, False), ("(cat:0.0)", 1, 4)),
    (("(cat:0.0)", 1, 4, False), ("(cat:-0.1)", 1, 4)),
    # old-style brackets become a number first: ((x)) = 1.21 -> 1.2
    (("a (cat) b", 3, 6, True), ("a (cat:1.2) b", 3, 6)),
    (("a (cat) b", 3, 6, False), ("a cat b", 2, 5)),
    (("((cat))", 2, 5, True), ("(cat:1.3)", 1, 4)),
    (("[cat]", 1, 4, False), ("(cat:0.8)", 1, 4)),
    (("[cat]", 1, 4, True), ("cat", 0, 3)),
    # nested weights: only the innermost group changes
    (("((cat:1.2) dog:1.1)", 2, 5, True), ("((cat:1.3) dog:1.1)", 2, 5)),
    # extra networks move by 0.05 and keep their brackets at 1.0
    (("x <lora:detail:0.8> y", 3, 14, True), ("x <lora:detail:0.85> y", 3, 14)),
    (("x <lora:detail:0.8> y", 3, 14, False), ("x <lora:detail:0.75> y", 3, 14)),
    (("<lora:detail:0.95>", 1, 12, True), ("<lora:detail:1.0>", 1, 12)),
    # a caret alone picks the word under it, or the group it is in
    (("a red cat, dog", 5, 5, True), ("a (red:1.1) cat, dog", 3, 6)),
    (("a red cat, dog", 3, 3, False), ("a (red:0.9) cat, dog", 3, 6)),
    (("first\nsecond", 8, 8, True), ("first\n(second:1.1)", 7, 13)),
    (("a (red cat:1.3) b", 5, 5, True), ("a (red cat:1.4) b", 3, 10)),
    (("a (red cat:1.3) b", 13, 13, False), ("a (red cat:1.2) b", 3, 10)),
    (("x <lora:detail:0.5>", 8, 8, True), ("x <lora:detail:0.55>", 3, 14)),
    (("a (tall) b", 5, 5, True), ("a (tall:1.2) b", 3, 7)),
    # nothing to weight
    (("a  b", 2, 2, True), None),
    (("", 0, 0, True), None),
]

MOVE_CASES = [
    (("a, b, c", 3, 4, True), (" b,a, c", 0, 2)),  # items keep their spaces, as in A1111
    (("a, b, c", 3, 4, False), ("a, c, b", 5, 7)),
    (("a, b, c", 0, 1, True), None),
    (("a, b, c", 6, 7, False), None),
]


@pytest.fixture
def script_page():
    """A blank Chromium page with only ``keyedit.js`` loaded: the pure string logic needs no server."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(REPO / "modules" / "interfaces" / "gradio_ui" / "static" / "keyedit.js"))
        yield page
        browser.close()


@pytest.fixture
def server_data(data_dir, tiny_checkpoint) -> Path:
    """The tiny SD1 checkpoint, loaded by the server at start-up, and a non-default LoRA weight step."""
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    (data_dir / "config.json").write_text(json.dumps({"keyedit_precision_extra": 0.1}), encoding="utf-8")
    return data_dir


def _wait_for_model(page) -> None:
    """The start-up load runs in the background; the counters show `0/75` on a page loaded after it."""
    counter = page.locator("#txt2img_token_counter")
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            expect(counter).to_have_text("0/75", timeout=3_000)
            return
        except AssertionError:
            page.reload()
    pytest.fail("the model did not load")


def test_keyedit_string_logic(script_page):
    page = script_page
    got = page.evaluate("cases => cases.map(([t, s, e, up]) => window.sdKeyedit.editWeight(t, s, e, up))",
                        [list(case) for case, _ in WEIGHT_CASES])
    expected = [None if want is None else dict(zip(("text", "start", "end"), want)) for _, want in WEIGHT_CASES]
    assert list(zip([c for c, _ in WEIGHT_CASES], got)) == list(zip([c for c, _ in WEIGHT_CASES], expected))
    moved = page.evaluate("cases => cases.map(([t, s, e, left]) => window.sdKeyedit.moveItems(t, s, e, left))",
                          [list(case) for case, _ in MOVE_CASES])
    assert moved == [None if want is None else dict(zip(("text", "start", "end"), want)) for _, want in MOVE_CASES]
    custom = page.evaluate("() => window.sdKeyedit.editWeight('(cat:1.0)', 1, 4, true, {precisionAttention: 0.2})")
    assert custom["text"] == "(cat:1.2)"


def test_counter_follows_the_prompt_and_ctrl_up_edits_the_selection(page):
    _wait_for_model(page)
    expect(page.locator("#txt2img_negative_token_counter")).to_have_text("0/75")
    prompt = page.locator("#txt2img_prompt textarea")
    prompt.fill("a red cat sitting on a mat")
    counter = page.locator("#txt2img_token_counter")
    expect(counter).to_have_text("7/75", timeout=10_000)
    prompt.fill(" ".join(["cat"] * 80) + " <lora:detail:0.5> # a comment")
    expect(counter).to_have_text("80/150", timeout=10_000)
    negative = page.locator("#txt2img_neg_prompt textarea")
    negative.fill("blurry, ugly")
    expect(page.locator("#txt2img_negative_token_counter")).to_have_text("3/75", timeout=10_000)

    prompt.fill("a red cat")
    prompt.evaluate("box => box.setSelectionRange(2, 5)")
    prompt.press("Control+ArrowUp")
    expect(prompt).to_have_value("a (red:1.1) cat")
    assert prompt.evaluate("box => [box.selectionStart, box.selectionEnd]") == [3, 6]
    prompt.press("Control+ArrowUp")
    expect(prompt).to_have_value("a (red:1.2) cat")
    prompt.press("Control+ArrowDown")
    prompt.press("Control+ArrowDown")
    expect(prompt).to_have_value("a red cat")
    prompt.press("Control+ArrowDown")
    expect(prompt).to_have_value("a (red:0.9) cat")
    expect(counter).to_have_text("3/75", timeout=10_000)  # Gradio saw the edit: the counter recounted
    negative.evaluate("box => box.setSelectionRange(0, 0)")
    negative.press("Control+ArrowUp")
    expect(negative).to_have_value("(blurry:1.1), ugly")
    negative.press("Alt+ArrowRight")
    expect(negative).to_have_value(" ugly,(blurry:1.1)")
    prompt.fill("cat <lora:detail:0.5>")
    prompt.evaluate("box => box.setSelectionRange(8, 8)")
    prompt.press("Control+ArrowUp")
    expect(prompt).to_have_value("cat <lora:detail:0.6>")  # the keyedit_precision_extra setting applies
