"""Tests for modules.core.paths."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from modules.core.errors import InvalidRequest
from modules.core.paths import Paths


def test_defaults(tmp_path):
    paths = Paths.from_root(tmp_path, install_dir=Path("/opt/app"))
    assert paths.data_dir == tmp_path
    assert paths.models_dir == tmp_path / "models"
    assert paths.ckpt_dirs == (tmp_path / "models" / "Stable-diffusion",)
    assert paths.vae_dirs == (tmp_path / "models" / "VAE",)
    assert paths.lora_dirs == (tmp_path / "models" / "Lora", tmp_path / "models" / "LyCORIS")
    assert paths.embeddings_dir == tmp_path / "embeddings"
    assert paths.extensions_dir == tmp_path / "extensions"
    assert paths.outputs_root == tmp_path
    assert paths.config_file == tmp_path / "config.json"
    assert paths.cache_dir == tmp_path / "cache"
    assert paths.configs_dir == Path("/opt/app/configs")
    assert list(tmp_path.iterdir()) == []  # building touches no disk


def test_overrides(tmp_path):
    paths = Paths.from_root(tmp_path, install_dir=tmp_path, models_dir=tmp_path / "m", ckpt_dir=tmp_path / "ck",
                            vae_dir=tmp_path / "v", lora_dir=tmp_path / "l", embeddings_dir=tmp_path / "e")
    assert paths.ckpt_dirs == (tmp_path / "m" / "Stable-diffusion", tmp_path / "ck")
    assert paths.vae_dirs == (tmp_path / "m" / "VAE", tmp_path / "v")
    assert paths.lora_dirs == (tmp_path / "m" / "Lora", tmp_path / "m" / "LyCORIS", tmp_path / "l")
    assert paths.embeddings_dir == tmp_path / "e"
    same = Paths.from_root(tmp_path, install_dir=tmp_path, ckpt_dir=tmp_path / "models" / "Stable-diffusion")
    assert same.ckpt_dirs == (tmp_path / "models" / "Stable-diffusion",)


def test_frozen(tmp_path):
    paths = Paths.from_root(tmp_path, install_dir=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        paths.data_dir = tmp_path  # type: ignore[misc]
    assert dataclasses.replace(paths, config_file=tmp_path / "x.json").config_file == tmp_path / "x.json"


def test_ensure_user_folders(tmp_path):
    paths = Paths.from_root(tmp_path, install_dir=tmp_path)
    paths.ensure_user_folders()
    paths.ensure_user_folders()
    for rel in ("models/Stable-diffusion", "models/VAE", "models/Lora", "embeddings", "extensions", "outputs"):
        assert (tmp_path / rel).is_dir(), rel


def test_resolve_output_dir(tmp_path):
    paths = Paths.from_root(tmp_path, install_dir=tmp_path)
    assert paths.resolve_output_dir("outputs/txt2img-images") == tmp_path / "outputs" / "txt2img-images"
    assert paths.resolve_output_dir(str(tmp_path / "custom")) == tmp_path / "custom"
    assert paths.resolve_output_dir("outputs/../outputs/x") == tmp_path / "outputs" / "x"


@pytest.mark.parametrize("value", ["../x", "outputs/../../x", "/etc", "", "a\0b"])
def test_resolve_output_dir_refuses_escape(tmp_path, value):
    paths = Paths.from_root(tmp_path / "data", install_dir=tmp_path)
    with pytest.raises(InvalidRequest):
        paths.resolve_output_dir(value)
