"""The Settings tab built from the schema: components, pages and search, Apply (all or nothing), Reload UI, freeze
flags; quick settings in the top bar."""
from __future__ import annotations

import json

import gradio as gr
import pytest

from modules.core.errors import SettingLocked
from modules.interfaces.gradio_ui import settings_search, setting_components
from modules.interfaces.gradio_ui.model_bar import build_model_bar
from modules.interfaces.gradio_ui.quick_settings import quick_keys, save_quick_setting
from modules.interfaces.gradio_ui.settings_search import ALL_PAGES
from modules.interfaces.gradio_ui.settings_tab import build_settings_tab, page_labels, tab_specs


def handler(demo: gr.Blocks, component, event: str):
    """The registered function of `component`'s `event`."""
    return next(f for f in demo.fns.values() if (component._id, event) in [tuple(t) for t in f.targets])


def built(ctx):
    with gr.Blocks() as demo:
        tab = build_settings_tab(ctx)
    return demo, tab


def by_elem_id(demo: gr.Blocks, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def apply(demo, tab, changes: dict) -> str:
    """Press Apply with the shown values plus `changes` (by key); return the result text."""
    shown = dict(tab.shown.value)
    values = {comp: changes.get(key, shown[key]) for key, comp in tab.components.items()}
    values[tab.shown] = shown
    message, _ = handler(demo, by_elem_id(demo, "settings_submit"), "click").fn(values)
    return message


def test_doctests():
    import doctest
    assert doctest.testmod(settings_search).failed == 0
    assert doctest.testmod(setting_components).failed == 0


def test_components_follow_the_schema(make_context):
    ctx = make_context()
    demo, tab = built(ctx)
    comps = tab.components
    steps = comps["default_steps"]
    assert isinstance(steps, gr.Slider) and (steps.minimum, steps.maximum, steps.step) == (1, 150, 1)
    assert steps.label == "Default sampling steps" and steps.elem_id == "setting_default_steps"
    assert isinstance(comps["eta_ddim"], gr.Slider) and comps["eta_ddim"].step == 0.01
    assert isinstance(comps["eta_noise_seed_delta"], gr.Number) and comps["eta_noise_seed_delta"].minimum == 0
    assert isinstance(comps["randn_source"], gr.Dropdown) and comps["randn_source"].value == "CPU"
    assert isinstance(comps["samples_save"], gr.Checkbox)
    assert isinstance(comps["samples_format"], gr.Textbox)
    vae = comps["sd_vae"]
    assert isinstance(vae, gr.Dropdown) and vae.allow_custom_value and vae.value == "Automatic"
    assert [c[1] for c in vae.choices][:2] == ["Automatic", "None"]
    quick = comps["quicksettings_list"]
    assert isinstance(quick, gr.Dropdown) and quick.multiselect and quick.value == ["sd_model_checkpoint"]
    assert not {"sd_model_checkpoint", "sd_checkpoint_hash", "disabled_extensions"} & comps.keys()
    assert all(c.interactive for c in comps.values())
    pages = page_labels(tab_specs(ctx))
    assert pages[:3] == ["Saving images/grids", "Paths for saving", "Saving to a directory"]
    radio = by_elem_id(demo, "settings_pages")
    assert radio.value == ALL_PAGES and [c[1] for c in radio.choices] == [*pages, ALL_PAGES]


def test_apply_saves_only_changed_keys(make_context, data_dir):
    ctx = make_context()
    demo, tab = built(ctx)
    ctx.settings.update({"eta_ancestral": 0.5})  # changed elsewhere (API) after the page loaded: left alone
    message = apply(demo, tab, {"default_steps": 31.0, "eta_ddim": 0.25, "samples_save": False})
    assert message.startswith("3 settings changed")
    saved = json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["default_steps"] == 31 and type(saved["default_steps"]) is int and saved["eta_ddim"] == 0.25
    assert saved["samples_save"] is False and saved["eta_ancestral"] == 0.5
    assert apply(demo, tab, {}) == "No settings changed."


def test_invalid_values_are_named_per_key_and_nothing_is_applied(make_context, data_dir):
    ctx = make_context()
    demo, tab = built(ctx)
    message = apply(demo, tab, {"default_steps": 0, "eta_ddim": 0.5, "eta_noise_seed_delta": None,
                                "randn_source": "Philox"})
    assert message.startswith("Nothing was changed")
    assert "**Default sampling steps** (`default_steps`): 0 is below the minimum 1" in message
    assert "(`eta_noise_seed_delta`): expected int, got None" in message
    assert "(`randn_source`)" in message and "eta_ddim" not in message
    assert ctx.settings.current().get("eta_ddim") == 0.0 and not (data_dir / "config.json").exists()


def test_frozen_settings_are_read_only_in_the_tab_and_refused(make_context, data_dir):
    ctx = make_context("--freeze-specific-settings", "eta_ddim", "--freeze-settings-in-sections", "infotext",
                       "--hide-ui-dir-config")
    demo, tab = built(ctx)
    comps = tab.components
    assert comps["eta_ddim"].interactive is False and "--freeze-specific-settings" in comps["eta_ddim"].info
    assert comps["add_model_hash_to_info"].interactive is False
    assert comps["outdir_txt2img_samples"].interactive is False and comps["eta_ancestral"].interactive
    message = apply(demo, tab, {"eta_ddim": 0.5, "default_steps": 30})
    assert "Nothing was changed" in message and "--freeze-specific-settings" in message
    assert ctx.settings.current().get("default_steps") == 20
    with pytest.raises(SettingLocked):
        ctx.settings.update({"outdir_txt2img_samples": "elsewhere"}, from_api=False)


def test_freeze_everything_flag(make_context):
    ctx = make_context("--freeze-settings")
    with pytest.raises(SettingLocked, match="--freeze-settings"):
        ctx.settings.update({"default_steps": 30})


def test_search_and_pages_choose_what_is_shown(make_context):
    ctx = make_context()
    demo, tab = built(ctx)
    search = by_elem_id(demo, "settings_search")
    show = handler(demo, search, "change")
    groups = show.outputs[:len(show.outputs) - len(tab.components)]
    updates = show.fn(ALL_PAGES, "clip skip")
    visible_keys = {k for k, u in zip(tab.components, updates[len(groups):]) if u["visible"]}
    assert visible_keys == {"CLIP_stop_at_last_layers", "sdxl_clip_l_skip"}
    assert sum(u["visible"] for u in updates[:len(groups)]) == 1
    by_key = show.fn(ALL_PAGES, "ETA_")
    assert {k for k, u in zip(tab.components, by_key[len(groups):]) if u["visible"]} == {
        "eta_ddim", "eta_ancestral", "eta_noise_seed_delta", "beta_dist_alpha", "beta_dist_beta"}
    page = show.fn("Sampler parameters", "")
    shown = {k for k, u in zip(tab.components, page[len(groups):]) if u["visible"]}
    assert "eta_ddim" in shown and "default_steps" not in shown
    assert sum(u["visible"] for u in page[:len(groups)]) == 1
    assert all(u["visible"] for u in show.fn(ALL_PAGES, "  "))
    assert handler(demo, by_elem_id(demo, "settings_pages"), "change").fn is show.fn


def test_reload_ui_reads_config_json_again(make_context, data_dir):
    ctx = make_context()
    demo, tab = built(ctx)
    ctx.settings.update({"default_steps": 25})
    path = data_dir / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "default_steps": 44}), encoding="utf-8")
    handler(demo, by_elem_id(demo, "settings_reload_ui"), "click").fn()
    values = dict(zip(tab.components, tab.load_values(ctx)))
    assert values["default_steps"] == 44


def test_quick_settings_in_the_top_bar(make_context, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "config.json").write_text(json.dumps(
        {"quicksettings": "sd_model_checkpoint, sd_vae, CLIP_stop_at_last_layers, no_such_key"}), encoding="utf-8")
    ctx = make_context()
    assert quick_keys(ctx.settings.current()) == ["CLIP_stop_at_last_layers"]
    with gr.Blocks() as demo:
        bar = build_model_bar(ctx)
        tab = build_settings_tab(ctx)
    clip = bar.quick["CLIP_stop_at_last_layers"]
    assert isinstance(clip, gr.Slider) and clip.elem_id == "setting_CLIP_stop_at_last_layers"
    assert (clip.minimum, clip.maximum, clip.label) == (1, 12, "Clip skip")
    assert "CLIP_stop_at_last_layers" not in tab.components and "sd_vae" in tab.components
    assert handler(demo, clip, "input").fn(2.0) == "Clip skip: 2 (saved)"
    saved = json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["CLIP_stop_at_last_layers"] == 2 and saved["quicksettings_list"][2] == "CLIP_stop_at_last_layers"
    with pytest.raises(gr.Error, match="CLIP_stop_at_last_layers"):
        save_quick_setting(ctx, "CLIP_stop_at_last_layers", 40)


def test_frozen_quick_setting_is_read_only(make_context, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "config.json").write_text(json.dumps({"quicksettings_list": ["sd_model_checkpoint", "eta_ddim"]}),
                                          encoding="utf-8")
    ctx = make_context("--freeze-settings")
    with gr.Blocks():
        bar = build_model_bar(ctx)
    assert bar.quick["eta_ddim"].interactive is False
    with pytest.raises(gr.Error, match="--freeze-settings"):
        save_quick_setting(ctx, "eta_ddim", 0.5)
