"""The txt2img tab's Styles dropdown: built from styles.csv, passed on to the request, refreshed on demand."""
from __future__ import annotations

import pytest

from modules.interfaces.gradio_ui import prompt_row, txt2img_tab
from modules.interfaces.gradio_ui.app import build_ui


@pytest.fixture
def ctx(make_context, data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "styles.csv").write_text("name,prompt,negative_prompt\nCinema,film,\nSharp,sharp,\n",
                                         encoding="utf-8-sig")
    return make_context()


def _styles_dropdown(blocks) -> dict:
    found = [c for c in blocks.config["components"] if c.get("props", {}).get("elem_id") == "txt2img_styles"]
    assert len(found) == 1
    return found[0]["props"]


def test_styles_dropdown_lists_styles_csv(ctx):
    props = _styles_dropdown(build_ui(ctx))
    assert props["multiselect"] is True and props["label"] == "Styles"
    assert [choice[0] for choice in props["choices"]] == ["Cinema", "Sharp"]


def test_chosen_styles_reach_the_request():
    values = {"prompt": "a cat", "negative_prompt": None, "styles": ["Sharp", "Cinema"], "steps": 3,
              "sampler": "Euler", "scheduler": "Automatic", "cfg_scale": 7, "width": 64, "height": 64, "seed": 1,
              "subseed_show": False, "batch_size": 1, "n_iter": 1}
    assert txt2img_tab._request(values).styles == ("Sharp", "Cinema")
    assert txt2img_tab._request({**values, "styles": None}).styles == ()


def test_refresh_rereads_the_file_and_drops_vanished_choices(ctx, data_dir):
    (data_dir / "styles.csv").write_text("name,prompt\nSharp,sharp\nNew,new\n", encoding="utf-8-sig")
    update = prompt_row.reloaded_styles(ctx, ["Cinema", "Sharp"])
    assert [choice[0] for choice in update.choices] == ["Sharp", "New"] and update.value == ["Sharp"]
