"""Tests for modules.core.version."""
from __future__ import annotations

import re

import pytest

from modules.core.version import APP_VERSION, __version__


def test_app_version_form():
    assert APP_VERSION == "sdwebui-0.1.0"
    assert APP_VERSION.endswith(__version__)
    assert re.match(r"^v?\d+\.\d+", APP_VERSION) is None


def test_a1111_does_not_parse_it_as_a_version():
    packaging_version = pytest.importorskip("packaging.version")
    text = APP_VERSION
    m = re.match(r"([^-]+-[^-]+)-.*", text)  # A1111 infotext_versions.parse_version
    if m:
        text = m.group(1)
    with pytest.raises(packaging_version.InvalidVersion):
        packaging_version.parse(text)
