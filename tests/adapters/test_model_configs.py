"""Configs derived from tensor shapes equal the shipped configs for real full-size layouts."""
from __future__ import annotations

import json

import pytest

from modules.adapters.model_configs import derive_configs
from modules.core.model_family import ModelFamily
from tests.conftest import REPO
from tests.support.make_key_manifests import full_size_layout

FAMILIES = [f.value for f in ModelFamily]


def _normalise(value):
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        return value[0]
    return value


@pytest.mark.parametrize("family", FAMILIES)
def test_real_shapes_reproduce_the_shipped_configs(family):
    shapes = {k: tuple(v) for k, v in full_size_layout(family).items()}
    base_dir = REPO / "configs" / family
    for name, derived in derive_configs(ModelFamily(family), shapes, base_dir).items():
        shipped = json.loads((base_dir / name / "config.json").read_text())
        for key, value in derived.items():
            assert _normalise(value) == _normalise(shipped.get(key, value)), f"{family}/{name}: {key}"


def test_sdxl_depths_and_embedding_sizes_are_read_from_shapes():
    shapes = {k: tuple(v) for k, v in full_size_layout("sdxl").items()}
    unet = derive_configs(ModelFamily.SDXL, shapes, REPO / "configs" / "sdxl")["unet"]
    assert unet["transformer_layers_per_block"] == [1, 2, 10]
    assert unet["projection_class_embeddings_input_dim"] == 2816 and unet["addition_time_embed_dim"] == 256
    refiner = derive_configs(ModelFamily.SDXL_REFINER, {k: tuple(v) for k, v in
                                                         full_size_layout("sdxl-refiner").items()},
                             REPO / "configs" / "sdxl-refiner")["unet"]
    assert refiner["transformer_layers_per_block"] == 4 and refiner["projection_class_embeddings_input_dim"] == 2560
