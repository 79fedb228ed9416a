"""The style editor saves, reads back and deletes styles in styles.csv, and applies chosen styles to prompts."""
from __future__ import annotations

import pytest
from gradio import Error as GradioError

from modules.core.errors import InvalidRequest
from modules.interfaces.gradio_ui import style_editor
from modules.interfaces.gradio_ui.app import build_ui


@pytest.fixture
def ctx(make_context, data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "styles.csv").write_text("name,prompt,negative_prompt\nCinema,film still of {prompt},blurry\n",
                                         encoding="utf-8")
    return make_context()


def test_save_edit_and_delete_round_trip_through_the_file(ctx, data_dir):
    assert style_editor.style_fields(ctx, "Cinema") == ("film still of {prompt}", "blurry")
    assert style_editor.style_fields(ctx, "New one") == ("", "")
    style_editor.save_style(ctx, " Sharp ", "sharp focus", "")
    style_editor.save_style(ctx, "Cinema", "movie still of {prompt}", "blurry, lowres")
    text = (data_dir / "styles.csv").read_text(encoding="utf-8")
    assert "Sharp,sharp focus," in text and "movie still of {prompt}" in text
    ctx.styles.reload()
    assert style_editor.style_fields(ctx, "Cinema") == ("movie still of {prompt}", "blurry, lowres")
    style_editor.delete_style(ctx, "Sharp")
    assert "Sharp" not in (data_dir / "styles.csv").read_text(encoding="utf-8")
    with pytest.raises(InvalidRequest):
        style_editor.save_style(ctx, "  ", "x", "")
    with pytest.raises(InvalidRequest):
        style_editor.delete_style(ctx, "Nope")


def test_apply_writes_styles_into_the_prompts_and_clears_the_choice(ctx):
    prompt, negative, chosen = style_editor.apply_styles_to_prompts(ctx, "a cat", "", ["Cinema", "Missing"])
    assert (prompt, negative, chosen) == ("film still of a cat", "blurry", [])


def test_the_txt2img_tab_has_the_editor(ctx):
    ids = {c.get("props", {}).get("elem_id") for c in build_ui(ctx).config["components"]}
    assert {"txt2img_style_editor", "txt2img_style_name", "txt2img_style_save", "txt2img_style_apply"} <= ids


def test_ui_errors_are_readable(ctx):
    from modules.interfaces.gradio_ui.errors import shown_to_user
    with pytest.raises(GradioError, match="name"):
        shown_to_user(lambda: style_editor.save_style(ctx, "", "x", ""))
