"""One rule for what the API may change: locked setting specs and every ``api_*`` key raise SettingLocked (403)."""
from __future__ import annotations

import pytest

from modules.core.errors import InvalidRequest, SettingLocked
from modules.core.settings import SettingsStore, api_settable


def test_locked_keys(tmp_path):
    store = SettingsStore(tmp_path / "config.json")
    current = store.current()
    assert not api_settable("api_enable_requests", None) and api_settable("some_extension_key", None)
    with pytest.raises(SettingLocked, match="outdir_samples"):
        store.update({"outdir_samples": "/elsewhere"}, from_api=True)
    assert issubclass(SettingLocked, InvalidRequest), "UI code catching InvalidRequest keeps working"
    store.update({"outdir_samples": current.get("outdir_samples")}, from_api=True)  # equal value: a no-op
    store.update({"outdir_samples": "/elsewhere"})  # the settings tab may change it
    assert store.current().get("outdir_samples") == "/elsewhere"
