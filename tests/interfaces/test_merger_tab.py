"""The Checkpoint Merger tab: on the page with A1111's ids, and its Merge handler run with named inputs."""
from __future__ import annotations

import json

import gradio as gr
import pytest
from gradio.exceptions import Error as GradioError
from safetensors.torch import load_file, save_file

from modules.interfaces.gradio_ui.app import build_ui
from modules.interfaces.gradio_ui.merger_tab import build_merger_tab, describe
from tests.conftest import install_checkpoint
from tests.support.tiny_models import build_checkpoint

VALUES = {"modelmerger_primary_model_name": "a.safetensors", "modelmerger_secondary_model_name": "b.safetensors",
          "modelmerger_tertiary_model_name": None, "modelmerger_interp_method": "Weighted sum",
          "modelmerger_interp_amount": 0.5, "modelmerger_save_as_half": False, "modelmerger_custom_name": "",
          "modelmerger_checkpoint_format": "safetensors", "modelmerger_config_method": 0,
          "modelmerger_bake_in_vae": "None", "modelmerger_discard_weights": "", "modelmerger_save_metadata": True,
          "modelmerger_add_recipe": True, "modelmerger_copy_metadata": True, "modelmerger_metadata_json": "{}",
          "modelmerger_overwrite": False}


@pytest.fixture
def ctx(tiny_checkpoint, data_dir, make_context):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    build_checkpoint("sd15", folder / "b.safetensors", seed=21)
    return make_context()


def _handler(demo: gr.Blocks, tab):
    return next(f for f in demo.fns.values() if tab.result in f.outputs and len(f.inputs) > 3)


def test_tab_sits_between_extras_and_settings_with_a1111_ids(ctx):
    config = build_ui(ctx).config
    tabs = [c["props"].get("id") for c in config["components"] if c["type"] == "tabitem"]
    assert tabs.index("extras") < tabs.index("modelmerger") < tabs.index("settings")
    props = {c["props"].get("elem_id"): c["props"] for c in config["components"]}
    assert set(VALUES) | {"modelmerger_merge", "modelmerger_result", "refresh_checkpoint_A"} <= set(props)
    assert [c[0] for c in props["modelmerger_primary_model_name"]["choices"]] == ["a.safetensors", "b.safetensors"]
    assert [c[0] for c in props["modelmerger_interp_method"]["choices"]] == [
        "No interpolation", "Weighted sum", "Add difference"]


def test_merge_button_saves_reports_and_refreshes_the_lists(ctx, data_dir):
    with gr.Blocks() as demo:
        bar = gr.Dropdown(choices=[], elem_id="sd_model_checkpoint")
        tab = build_merger_tab(ctx, bar)
    handler = _handler(demo, tab)
    shown = []
    values = {comp: VALUES[comp.elem_id] for comp in handler.inputs}
    *lists, bar_list, message = handler.fn(values, progress=lambda *a, **k: shown.append(a))
    saved = data_dir / "models" / "Stable-diffusion" / "0.5(a) + 0.5(b).safetensors"
    assert saved.is_file() and f"Checkpoint saved to {saved}" in message and " s</p>" in message
    titles = [c[0] for c in lists[0].choices]
    assert titles[0].startswith("0.5(a) + 0.5(b).safetensors [") and len(titles) == 3
    assert lists[0].value.startswith("a.safetensors [") and lists[2].value is None, "hashed titles stay selected"
    assert bar_list.choices == lists[0].choices, "the model bar lists the new checkpoint too"
    with pytest.raises(GradioError, match="already exists"):
        handler.fn(values, progress=lambda *a, **k: None)
    values = {comp: VALUES[comp.elem_id] if comp.elem_id != "modelmerger_interp_method" else "Add difference"
              for comp in handler.inputs}
    with pytest.raises(GradioError, match="requires a tertiary model"):
        handler.fn(values, progress=lambda *a, **k: None)


def test_read_metadata_and_method_description(ctx, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    save_file(load_file(str(folder / "b.safetensors")), str(folder / "b.safetensors"),
              metadata={"format": "pt", "sd_merge_recipe": json.dumps({"type": "webui"})})
    assert json.loads(ctx.merger.read_metadata(["a.safetensors", "b.safetensors", ""])) == {
        "format": "pt", "sd_merge_recipe": {"type": "webui"}}
    assert "A + (B - C) * M" in describe("Add difference")
