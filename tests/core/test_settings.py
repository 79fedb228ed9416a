"""Tests for modules.core.settings."""
from __future__ import annotations

import doctest
import json
import logging
import threading

import pytest

from modules.core import settings as settings_module
from modules.core.errors import InvalidRequest, WebUIError
from modules.core.settings import SETTING_SPECS, SettingSpec, SettingsStore

EXPECTED_DEFAULTS = {
    "samples_save": True, "samples_format": "png", "samples_filename_pattern": "", "save_images_add_number": True,
    "save_to_dirs": True, "directories_filename_pattern": "[date]", "outdir_samples": "",
    "outdir_txt2img_samples": "outputs/txt2img-images", "outdir_img2img_samples": "outputs/img2img-images",
    "outdir_extras_samples": "outputs/extras-images", "outdir_txt2img_grids": "outputs/txt2img-grids",
    "outdir_img2img_grids": "outputs/img2img-grids", "enable_pnginfo": True, "add_model_hash_to_info": True,
    "add_model_name_to_info": True, "add_version_to_infotext": True, "sd_model_checkpoint": None,
    "sd_checkpoint_hash": "", "sd_checkpoints_limit": 1, "CLIP_stop_at_last_layers": 1, "emphasis": "Original", "sdxl_clip_l_skip": False, "pad_cond_uncond": False,
    "batch_cond_uncond": True,
    "randn_source": "CPU",
    "sd_vae": "Automatic", "sd_vae_overrides_per_model_preferences": True, "sd_lora": "None",
    "extra_networks_default_multiplier": 1.0, "lora_in_memory_limit": 4, "add_vae_hash_to_info": True,
    "add_vae_name_to_info": True, "lora_add_hashes_to_infotext": True,
    "textual_inversion_add_hashes_to_infotext": True,
    "eta_ddim": 0.0, "eta_ancestral": 1.0, "default_sampler": "DPM++ 2M", "default_scheduler": "Automatic",
    "infotext_styles": "Apply if any", "disable_weights_auto_swap": True, "enable_prompt_comments": True,
    "use_old_scheduling": False,
    "include_styles_into_token_counters": True, "keyedit_precision_attention": 0.1,
    "keyedit_precision_extra": 0.05, "keyedit_delimiters": ".,\\/!?%^*;:{}=`~() ", "keyedit_move": True,
    "ESRGAN_tile": 192, "ESRGAN_tile_overlap": 8, "upscaler_for_img2img": None,
    "img2img_fix_steps": False, "initial_noise_multiplier": 1.0, "inpainting_mask_weight": 1.0,
    "img2img_background_color": "#ffffff", "live_previews_enable": True, "show_progress_every_n_steps": 10,
    "disabled_extensions": [], "enabled_extensions": [],
    "default_steps": 20, "s_churn": 0.0, "s_tmin": 0.0, "s_tmax": 0.0, "s_noise": 1.0, "eta_noise_seed_delta": 0,
    "sigma_min": 0.0, "sigma_max": 0.0, "rho": 0.0, "always_discard_next_to_last_sigma": False,
    "sgm_noise_multiplier": False, "beta_dist_alpha": 0.6, "beta_dist_beta": 0.6,
    "uni_pc_order": 3, "uni_pc_lower_order_final": True,
    "grid_save": True, "grid_format": "png", "grid_extended_filename": False, "grid_only_if_multiple": True,
    "n_rows": -1, "outdir_grids": "", "grid_save_to_dirs": True, "return_grid": True,
    "live_previews_enable": True, "show_progress_every_n_steps": 10,
    "quicksettings_list": ["sd_model_checkpoint"], "max_job_megapixel_steps": 200_000,
}


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_doctests():
    assert doctest.testmod(settings_module).failed == 0


def test_defaults(tmp_path):
    store = SettingsStore(tmp_path / "config.json")
    current = store.current()
    for key, value in EXPECTED_DEFAULTS.items():
        assert current.get(key) == value, key
        assert type(current.get(key)) is type(value), key
    assert current.as_dict() == EXPECTED_DEFAULTS
    assert not (tmp_path / "config.json").exists()  # nothing written until a change


def test_spec_table():
    specs = {s.key: s for s in SETTING_SPECS}
    assert specs["default_sampler"].label == "Default sampling method"
    assert specs["randn_source"].choices == ("GPU", "CPU", "NV")
    locked = {k for k, s in specs.items() if not s.api_settable}
    assert locked == {k for k in specs if k.startswith("outdir_") or k.endswith("_filename_pattern")} | {
        "max_job_megapixel_steps"}  # a remote client must not lift the work budget


def test_get_unknown_key(tmp_path):
    current = SettingsStore(tmp_path / "c.json").current()
    with pytest.raises(KeyError):
        current.get("nope")
    assert current.get("nope", 5) == 5


def test_round_trip_through_disk(tmp_path):
    path = tmp_path / "config.json"
    store = SettingsStore(path)
    new = store.update({"eta_ddim": 1, "default_steps": 30, "samples_save": False, "sd_model_checkpoint": "m.ckpt"})
    assert new.get("eta_ddim") == 1.0 and isinstance(new.get("eta_ddim"), float)
    assert store.current() is new
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n    "')
    assert json.loads(text)["default_steps"] == 30
    again = SettingsStore(path).current()
    assert again.as_dict() == new.as_dict()


def test_snapshot_is_immutable(tmp_path):
    store = SettingsStore(tmp_path / "c.json")
    snapshot = store.current()
    store.update({"default_steps": 40})
    assert snapshot.get("default_steps") == 20
    with pytest.raises(TypeError):
        snapshot.values["default_steps"] = 1  # type: ignore[index]
    snapshot.as_dict()["default_steps"] = 99
    assert snapshot.get("default_steps") == 20


@pytest.mark.parametrize("key, value", [
    ("samples_save", 1), ("default_steps", 2.5), ("default_steps", True), ("eta_ddim", "0.5"),
    ("eta_ddim", float("nan")), ("randn_source", "Philox"), ("default_sampler", "Foo"), ("default_steps", 0),
    ("CLIP_stop_at_last_layers", 13), ("emphasis", "Loud"), ("sd_checkpoint_hash", None), ("unknown_key", {1, 2}),
])
def test_validation_names_the_key(tmp_path, key, value):
    store = SettingsStore(tmp_path / "c.json")
    with pytest.raises(InvalidRequest, match=key):
        store.update({key: value})
    assert not (tmp_path / "c.json").exists()


def test_update_is_all_or_nothing(tmp_path):
    store = SettingsStore(tmp_path / "c.json")
    with pytest.raises(InvalidRequest):
        store.update({"default_steps": 30, "samples_save": "yes"})
    assert store.current().get("default_steps") == 20


def test_api_refuses_path_changes_but_allows_equal(tmp_path):
    store = SettingsStore(tmp_path / "c.json")
    with pytest.raises(InvalidRequest, match="^outdir_txt2img_samples cannot be changed through the API$"):
        store.update({"outdir_txt2img_samples": "/etc"}, from_api=True)
    same = store.update({"outdir_txt2img_samples": "outputs/txt2img-images", "default_steps": 25}, from_api=True)
    assert same.get("default_steps") == 25
    assert store.update({"outdir_txt2img_samples": "elsewhere"}).get("outdir_txt2img_samples") == "elsewhere"


def test_equal_values_are_noops(tmp_path):
    path = tmp_path / "c.json"
    store = SettingsStore(path)
    calls = []
    store.add_listener(calls.append)
    before = store.current()
    assert store.update({"default_steps": 20, "eta_ddim": 0}) is before
    assert not path.exists() and calls == []
    after = store.update({"default_steps": 21})
    assert calls == [after]


def test_unknown_keys_kept(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"some_extension_key": [1, "a"], "default_steps": 33}), encoding="utf-8")
    store = SettingsStore(path)
    assert store.current().get("some_extension_key") == [1, "a"]
    store.update({"another": "é"})
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["some_extension_key"] == [1, "a"] and data["another"] == "é" and data["default_steps"] == 33
    assert "\"é\"" in path.read_text(encoding="utf-8")  # ensure_ascii=False


def test_bad_typed_value_on_load_uses_default(tmp_path, caplog):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"default_steps": "many", "samples_save": False}), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        current = SettingsStore(path).current()
    assert current.get("default_steps") == 20 and current.get("samples_save") is False
    assert "default_steps" in caplog.text


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b"\xff\xfe\x00"])
def test_corrupt_file_moved_aside(tmp_path, caplog, content):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        store = SettingsStore(path)
    assert store.current().as_dict() == EXPECTED_DEFAULTS
    assert not path.exists()
    assert (tmp_path / "tmp" / "config.json").read_bytes() == content
    assert "moved" in caplog.text


def test_atomic_write_leaves_no_temp_files_and_keeps_backup(tmp_path):
    path = tmp_path / "config.json"
    store = SettingsStore(path)
    store.update({"default_steps": 21})
    assert _files(tmp_path) == ["config.json"]
    first = path.read_bytes()
    store.update({"default_steps": 22})
    assert _files(tmp_path) == ["config.json", "config.json.bak"]
    assert (tmp_path / "config.json.bak").read_bytes() == first
    assert json.loads(path.read_text())["default_steps"] == 22


def test_failed_write_keeps_state(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = SettingsStore(blocker / "config.json")
    with pytest.raises(WebUIError, match="Could not save settings"):
        store.update({"default_steps": 30})
    assert store.current().get("default_steps") == 20
    assert _files(tmp_path) == ["not-a-folder"]


def test_quicksettings_migration(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"quicksettings": "sd_model_checkpoint, sd_vae", "sd_vae_as_default": True}))
    current = SettingsStore(path).current()
    assert current.get("quicksettings_list") == ["sd_model_checkpoint", "sd_vae"]
    assert current.get("sd_vae_overrides_per_model_preferences") is False
    assert current.get("quicksettings") == "sd_model_checkpoint, sd_vae"


def test_listeners_and_failing_listener(tmp_path, caplog):
    store = SettingsStore(tmp_path / "c.json")
    seen = []
    store.add_listener(lambda s: 1 / 0)
    store.add_listener(lambda s: seen.append(s.get("default_steps")))
    with caplog.at_level(logging.ERROR):
        store.update({"default_steps": 9})
    assert seen == [9] and store.current().get("default_steps") == 9


def test_with_overrides(tmp_path):
    store = SettingsStore(tmp_path / "c.json")
    base = store.current()
    over = base.with_overrides({"CLIP_stop_at_last_layers": 2, "eta_ddim": 1, "ext.x": True})
    assert over.get("CLIP_stop_at_last_layers") == 2 and over.get("eta_ddim") == 1.0 and over.get("ext.x") is True
    assert base.get("CLIP_stop_at_last_layers") == 1 and store.current() is base
    assert base.with_overrides(None) is base and base.with_overrides({}) is base
    with pytest.raises(InvalidRequest, match="outdir_samples"):
        base.with_overrides({"outdir_samples": "/tmp"})
    with pytest.raises(InvalidRequest, match="eta_ddim"):
        base.with_overrides({"eta_ddim": "x"})


def test_custom_specs_and_duplicates(tmp_path):
    spec = SettingSpec("ext.demo.level", 3, "Level", "Demo", int, minimum=0, maximum=5)
    store = SettingsStore(tmp_path / "c.json", specs=(*SETTING_SPECS, spec))
    assert store.update({"ext.demo.level": 4}).get("ext.demo.level") == 4
    with pytest.raises(ValueError):
        SettingsStore(tmp_path / "d.json", specs=(spec, spec))


def test_thread_safe_updates(tmp_path):
    path = tmp_path / "c.json"
    store = SettingsStore(path)
    keys = [f"k{i}" for i in range(20)]
    threads = [threading.Thread(target=store.update, args=({key: i},)) for i, key in enumerate(keys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = json.loads(path.read_text())
    assert all(data[key] == i for i, key in enumerate(keys))
    assert _files(tmp_path) == ["c.json", "c.json.bak"]
