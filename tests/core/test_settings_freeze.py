"""Freeze flags, quick-settings migration and reloading config.json in modules.core.settings."""
from __future__ import annotations

import doctest
import json

import pytest

from modules.core import settings_freeze, settings_sections
from modules.core.errors import InvalidRequest, SettingLocked
from modules.core.settings import SettingsStore
from modules.core.settings_freeze import FreezeRules


def test_doctests():
    assert doctest.testmod(settings_freeze).failed == 0
    assert doctest.testmod(settings_sections).failed == 0


def test_no_flags_freeze_nothing(tmp_path):
    rules = FreezeRules.from_flags()
    assert not rules and rules.reason("eta_ddim", "Sampler parameters") is None
    store = SettingsStore(tmp_path / "c.json", frozen=rules)
    assert store.update({"eta_ddim": 0.5}).get("eta_ddim") == 0.5


def test_freeze_everything(tmp_path):
    store = SettingsStore(tmp_path / "c.json", frozen=FreezeRules.from_flags(freeze_settings=True))
    with pytest.raises(SettingLocked, match="^default_steps: .*--freeze-settings"):
        store.update({"default_steps": 30})
    assert store.update({"default_steps": 20}).get("default_steps") == 20  # an unchanged value is no change
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("sections", ["sd", " sd ,img2img", "Stable Diffusion", "stable diffusion"])
def test_freeze_sections_by_a1111_id_or_label(tmp_path, sections):
    store = SettingsStore(tmp_path / "c.json", frozen=FreezeRules.from_flags(in_sections=sections))
    with pytest.raises(SettingLocked, match="CLIP_stop_at_last_layers.*section 'Stable Diffusion' \\(sd\\)"):
        store.update({"CLIP_stop_at_last_layers": 2})
    assert store.update({"eta_ddim": 0.3}).get("eta_ddim") == 0.3  # Sampler parameters: not frozen


def test_freeze_specific_keys_all_or_nothing(tmp_path):
    store = SettingsStore(tmp_path / "c.json", frozen=FreezeRules.from_flags(specific="eta_ddim, samples_save"))
    assert store.frozen_reason("eta_ddim") and store.frozen_reason("eta_ancestral") is None
    with pytest.raises(SettingLocked, match="samples_save.*--freeze-specific-settings"):
        store.update({"default_steps": 30, "samples_save": False})
    assert store.current().get("default_steps") == 20  # nothing half-applied


def test_hide_ui_dir_config_locks_paths_only(tmp_path):
    store = SettingsStore(tmp_path / "c.json", frozen=FreezeRules.from_flags(hide_ui_dir_config=True))
    for key in ("outdir_txt2img_samples", "samples_filename_pattern", "directories_filename_pattern"):
        with pytest.raises(SettingLocked, match=f"{key}.*--hide-ui-dir-config"):
            store.update({key: "x"})
    assert store.update({"save_to_dirs": False}).get("save_to_dirs") is False


def test_frozen_error_is_an_invalid_request_for_the_edges(tmp_path):
    store = SettingsStore(tmp_path / "c.json", frozen=FreezeRules(everything=True))
    with pytest.raises(InvalidRequest):
        store.update({"eta_ddim": 1.0}, from_api=True)


@pytest.mark.parametrize("legacy, expected", [
    ("sd_model_checkpoint, sd_vae,CLIP_stop_at_last_layers", ["sd_model_checkpoint", "sd_vae",
                                                              "CLIP_stop_at_last_layers"]),
    ("sd_model_checkpoint,,", ["sd_model_checkpoint"]),
    ("", []),
])
def test_legacy_quicksettings_string_migrates(tmp_path, legacy, expected):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"quicksettings": legacy}), encoding="utf-8")
    assert SettingsStore(path).current().get("quicksettings_list") == expected


def test_quicksettings_list_wins_over_legacy_and_is_validated(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"quicksettings": "sd_vae", "quicksettings_list": ["eta_ddim"]}), encoding="utf-8")
    store = SettingsStore(path)
    assert store.current().get("quicksettings_list") == ["eta_ddim"]
    with pytest.raises(InvalidRequest, match="quicksettings_list"):
        store.update({"quicksettings_list": ["sd_vae", 3]})
    with pytest.raises(InvalidRequest, match="quicksettings_list"):
        store.update({"quicksettings_list": "sd_vae"})


def test_reload_reads_a_hand_edited_file_and_notifies(tmp_path):
    path = tmp_path / "config.json"
    store = SettingsStore(path)
    store.update({"default_steps": 25})
    seen = []
    store.add_listener(lambda s: seen.append(s.get("default_steps")))
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "default_steps": 42}), encoding="utf-8")
    assert store.current().get("default_steps") == 25
    assert store.reload().get("default_steps") == 42 and seen == [42]


def test_reload_of_a_corrupt_file_quarantines_it(tmp_path):
    path = tmp_path / "config.json"
    store = SettingsStore(path)
    store.update({"default_steps": 25})
    path.write_text("{broken", encoding="utf-8")
    assert store.reload().get("default_steps") == 20
    assert (tmp_path / "tmp" / "config.json").read_text(encoding="utf-8") == "{broken"


def test_the_loaded_checkpoint_is_recorded_even_when_frozen(tmp_path):
    store = SettingsStore(tmp_path / "c.json", frozen=FreezeRules(everything=True))
    assert store.frozen_reason("sd_model_checkpoint")  # the edges (model bar, /options) refuse a user's switch
    new = store.update({"sd_model_checkpoint": "a.safetensors [0123456789]", "sd_checkpoint_hash": "ab"})
    assert new.get("sd_model_checkpoint") == "a.safetensors [0123456789]"
