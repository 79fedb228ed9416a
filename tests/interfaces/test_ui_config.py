"""ui-config.json applied to the txt2img and img2img tabs (values, bounds, visibility) and its agreement with the
``default_*`` settings the page-load handler uses."""
from __future__ import annotations

import json
import logging

import gradio as gr

from modules.interfaces.gradio_ui.app import build_ui
from modules.interfaces.gradio_ui.ui_config import apply_ui_config, labelled_components


def props(demo: gr.Blocks) -> dict:
    return {c["props"].get("elem_id"): c["props"] for c in demo.config["components"]}


def write(data_dir, data) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "ui-config.json").write_text(json.dumps(data), encoding="utf-8")


def test_first_start_writes_the_label_path_keys_with_built_in_defaults(make_context, data_dir):
    build_ui(make_context())
    saved = json.loads((data_dir / "ui-config.json").read_text(encoding="utf-8"))
    assert saved["txt2img/Sampling steps/value"] == 20 and saved["txt2img/Sampling steps/maximum"] == 150
    assert saved["txt2img/Sampling steps/minimum"] == 1 and saved["txt2img/Sampling steps/step"] == 1
    assert saved["txt2img/Width/value"] == 512 and saved["txt2img/CFG Scale/step"] == 0.5
    assert saved["txt2img/Prompt/value"] == "" and saved["txt2img/Prompt/visible"] is True
    assert saved["txt2img/Sampling method/value"] == "DPM++ 2M"
    assert saved["img2img/Denoising strength/value"] == 0.75 and saved["img2img/Resize mode/value"] == "Just resize"
    assert not any("Generation info" in key for key in saved)  # read-only outputs are not defaults


def test_values_bounds_and_visibility_are_applied_and_unknown_keys_kept(make_context, data_dir):
    write(data_dir, {"txt2img/Width/value": 768, "txt2img/Width/maximum": 1024, "txt2img/Batch size/visible": False,
                     "txt2img/Prompt/value": "a cat", "img2img/Denoising strength/value": 0.5,
                     "img2img/Sampling method/value": "Euler a", "customscript/x.py/txt2img/A/value": 3})
    demo = build_ui(make_context())
    p = props(demo)
    assert p["txt2img_width"]["value"] == 768 and p["txt2img_width"]["maximum"] == 1024
    assert p["txt2img_batch_size"]["visible"] is False and p["txt2img_prompt"]["value"] == "a cat"
    assert p["img2img_denoising_strength"]["value"] == 0.5 and p["img2img_sampling"]["value"] == "Euler a"
    saved = json.loads((data_dir / "ui-config.json").read_text(encoding="utf-8"))
    assert saved["customscript/x.py/txt2img/A/value"] == 3 and saved["txt2img/Width/value"] == 768
    assert saved["txt2img/Height/value"] == 512


def test_bad_values_are_ignored_with_a_warning(make_context, data_dir, caplog):
    write(data_dir, {"txt2img/Width/value": "wide", "txt2img/Sampling method/value": "No such sampler",
                     "txt2img/Height/visible": "no", "txt2img/Sampling steps/maximum": None})
    with caplog.at_level(logging.WARNING):
        p = props(build_ui(make_context()))
    assert p["txt2img_width"]["value"] == 512 and p["txt2img_sampling"]["value"] == "DPM++ 2M"
    assert p["txt2img_height"]["visible"] is True and p["txt2img_steps"]["maximum"] == 150
    assert "txt2img/Width/value" in caplog.text and "No such sampler" in caplog.text


def test_corrupt_file_is_moved_aside_and_defaults_used(make_context, data_dir, caplog):
    data_dir.mkdir(parents=True)
    (data_dir / "ui-config.json").write_text('{"txt2img/Width/value": 7', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        p = props(build_ui(make_context()))
    assert p["txt2img_width"]["value"] == 512 and "corrupt" in caplog.text
    assert (data_dir / "tmp" / "ui-config.json").read_text(encoding="utf-8") == '{"txt2img/Width/value": 7'
    assert json.loads((data_dir / "ui-config.json").read_text(encoding="utf-8"))["txt2img/Width/value"] == 512


def test_ui_config_file_flag(make_context, tmp_path, data_dir):
    other = tmp_path / "elsewhere" / "my-ui.json"
    other.parent.mkdir()
    other.write_text(json.dumps({"txt2img/Height/value": 640}), encoding="utf-8")
    p = props(build_ui(make_context("--ui-config-file", str(other))))
    assert p["txt2img_height"]["value"] == 640 and not (data_dir / "ui-config.json").exists()


def test_page_load_defaults_settings_unless_the_file_changed_the_field(make_context, data_dir):
    write(data_dir, {"txt2img/Sampling steps/value": 35, "img2img/Schedule type/value": "Karras"})
    ctx = make_context()
    ctx.settings.update({"default_steps": 31, "default_sampler": "Euler a"})
    with gr.Blocks():
        with gr.Tab("txt2img") as t2i:
            gr.Dropdown(["DPM++ 2M", "Euler a"], value="DPM++ 2M", label="Sampling method")
            gr.Dropdown(["Automatic", "Karras"], value="Automatic", label="Schedule type")
            gr.Slider(1, 150, value=20, step=1, label="Sampling steps")
        with gr.Tab("img2img") as i2i:
            gr.Dropdown(["DPM++ 2M", "Euler a"], value="DPM++ 2M", label="Sampling method")
            gr.Dropdown(["Automatic", "Karras"], value="Automatic", label="Schedule type")
            gr.Slider(1, 150, value=20, step=1, label="Sampling steps")
            gr.Textbox("", label="Sampling steps")  # a repeated label: the first component owns the key
    applied = apply_ui_config(data_dir / "ui-config.json", {"txt2img": t2i, "img2img": i2i})
    settings = ctx.settings.current()
    assert applied.generation_defaults("txt2img", settings) == ("Euler a", "Automatic", 35)
    assert applied.generation_defaults("img2img", settings) == ("Euler a", "Karras", 31)
    assert [label for label, _ in labelled_components(i2i)] == ["Sampling method", "Schedule type", "Sampling steps"]


def test_page_load_handler_uses_the_file_over_the_settings(make_context, data_dir):
    write(data_dir, {"txt2img/Sampling steps/value": 35})
    ctx = make_context()
    ctx.settings.update({"default_steps": 31, "default_sampler": "Euler a"})
    demo = build_ui(ctx)
    load = next(f for f in demo.fns.values() if (demo._id, "load") in [tuple(t) for t in f.targets]
                and any(getattr(o, "elem_id", None) == "txt2img_steps" for o in f.outputs))
    values = dict(zip((getattr(o, "elem_id", None) for o in load.outputs), load.fn()))
    assert values["txt2img_steps"] == 35 and values["img2img_steps"] == 31
    assert values["txt2img_sampling"] == "Euler a" and values["img2img_sampling"] == "Euler a"
