"""ui-config.json: keys, merging with defaults, atomic writes and corrupt files (modules.core.ui_config)."""
from __future__ import annotations

import doctest
import json
import logging

import pytest

from modules.core import ui_config
from modules.core.ui_config import acceptable, field_key, merged_with_defaults, sync_ui_config

DEFAULTS = {"txt2img/Sampling steps/value": 20, "txt2img/Sampling steps/minimum": 1,
            "txt2img/Sampling steps/maximum": 150, "txt2img/Sampling steps/step": 1,
            "txt2img/Sampling steps/visible": True, "txt2img/Prompt/value": ""}


def test_doctests():
    assert doctest.testmod(ui_config).failed == 0


def test_field_key_rejects_unknown_fields():
    assert field_key("img2img", "Denoising strength", "value") == "img2img/Denoising strength/value"
    with pytest.raises(ValueError):
        field_key("txt2img", "Width", "colour")


def test_missing_file_is_written_with_defaults(tmp_path):
    path = tmp_path / "ui-config.json"
    assert sync_ui_config(path, DEFAULTS) == DEFAULTS
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n    "txt2img/Sampling steps/value": 20,') and json.loads(text) == DEFAULTS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ui-config.json"]  # no temp file left


def test_user_values_and_unknown_keys_are_kept_and_missing_keys_added(tmp_path):
    path = tmp_path / "ui-config.json"
    path.write_text(json.dumps({"txt2img/Sampling steps/value": 35, "customscript/x.py/txt2img/A/value": 1}),
                    encoding="utf-8")
    merged = sync_ui_config(path, DEFAULTS)
    assert merged["txt2img/Sampling steps/value"] == 35 and merged["customscript/x.py/txt2img/A/value"] == 1
    assert merged["txt2img/Sampling steps/maximum"] == 150
    assert json.loads(path.read_text(encoding="utf-8")) == merged


def test_complete_file_is_not_rewritten(tmp_path):
    path = tmp_path / "ui-config.json"
    path.write_text(json.dumps({**DEFAULTS, "txt2img/Prompt/value": "cat"}, indent=1), encoding="utf-8")
    before = path.read_bytes()
    assert sync_ui_config(path, DEFAULTS)["txt2img/Prompt/value"] == "cat"
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"{\"txt2img/Width/value\": 5", b"", b"[1]", b"\xff\xfe"])
def test_corrupt_file_is_moved_aside_and_defaults_used(tmp_path, caplog, content):
    path = tmp_path / "ui-config.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        merged = sync_ui_config(path, DEFAULTS)
    assert merged == DEFAULTS and json.loads(path.read_text(encoding="utf-8")) == DEFAULTS
    assert (tmp_path / "tmp" / "ui-config.json").read_bytes() == content
    assert "corrupt" in caplog.text


def test_unwritable_location_only_warns(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        assert sync_ui_config(blocker / "ui-config.json", DEFAULTS) == DEFAULTS
    assert "Could not write" in caplog.text


def test_merge_keeps_order():
    merged = merged_with_defaults({"b": 1, "a": 2}, {"a": 0, "c": 3})
    assert list(merged) == ["b", "a", "c"]


@pytest.mark.parametrize("field, value, default, ok", [
    ("value", 7.5, 7, True), ("value", 7, 7.5, True), ("value", True, 7, False), ("value", "x", "", True),
    ("value", 1, "", False), ("value", "DPM++ 2M", None, True), ("visible", False, True, True),
    ("visible", 0, True, False), ("minimum", float("inf"), 1, False), ("step", 0.5, 1, True),
    ("value", [1], [], True), ("value", False, True, True),
])
def test_acceptable_values(field, value, default, ok):
    assert acceptable(field, value, default) is ok
