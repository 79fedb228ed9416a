"""A1111 seed semantics end to end on a tiny SD1 checkpoint: variation seeds, resize-from, random sources, API."""
from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.core.infotext import parse_infotext
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint


def _request(**overrides) -> Txt2ImgRequest:
    # Euler is not ancestral: the picture depends on the initial noise only, so noise relations show in pixels.
    base = dict(prompt="a red circle", steps=3, sampler_name="Euler", scheduler="Automatic", cfg_scale=7,
                width=64, height=64, seed=77, save_images=False)
    base.update(overrides)
    return Txt2ImgRequest(**base)


def _pixels(result, index: int = 0) -> np.ndarray:
    return np.asarray(result.images[index].image).astype(int)


@pytest.fixture
def ctx(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    return make_context()


def test_batch_with_variation_equals_single_runs(ctx):
    batch = ctx.generation.txt2img(_request(batch_size=2, subseed=300, subseed_strength=0.4))
    assert batch.all_seeds == [77, 77], "with a variation strength every image keeps the main seed"
    assert batch.all_subseeds == [300, 301]
    for index, subseed in enumerate((300, 301)):
        single = ctx.generation.txt2img(_request(subseed=subseed, subseed_strength=0.4))
        diff = np.abs(_pixels(batch, index) - _pixels(single)).max()
        assert diff <= 2, f"image {index} differs from subseed {subseed} alone by {diff}"
    assert not np.array_equal(_pixels(batch, 0), _pixels(batch, 1))


def test_second_batch_continues_the_subseeds(ctx):
    result = ctx.generation.txt2img(_request(n_iter=2, subseed=40, subseed_strength=0.2))
    assert result.all_seeds == [77, 77] and result.all_subseeds == [40, 41]
    single = ctx.generation.txt2img(_request(subseed=41, subseed_strength=0.2))
    assert np.array_equal(_pixels(result, 1), _pixels(single))


def test_strength_0_is_the_main_seed_and_1_is_the_subseed(ctx):
    plain = ctx.generation.txt2img(_request())
    zero = ctx.generation.txt2img(_request(subseed=300, subseed_strength=0))
    full = ctx.generation.txt2img(_request(subseed=300, subseed_strength=1))
    as_subseed = ctx.generation.txt2img(_request(seed=300))
    half = ctx.generation.txt2img(_request(subseed=300, subseed_strength=0.5))
    assert np.array_equal(_pixels(zero), _pixels(plain))
    assert np.array_equal(_pixels(full), _pixels(as_subseed))
    assert not np.array_equal(_pixels(half), _pixels(plain)) and not np.array_equal(_pixels(half), _pixels(full))
    assert "Variation seed" not in zero.images[0].infotext
    assert zero.all_seeds == [77] and zero.all_subseeds == [300]


def test_variation_and_resize_infotext_parse_back(ctx):
    result = ctx.generation.txt2img(_request(batch_size=2, subseed=300, subseed_strength=0.4,
                                             seed_resize_from_w=96, seed_resize_from_h=32))
    first, second = (img.infotext.splitlines()[-1] for img in result.images)
    assert ", Seed: 77, Size: 64x64, " in first
    assert "Variation seed: 300, Variation seed strength: 0.4, Seed resize from: 96x32, " in first
    assert "Variation seed: 301, Variation seed strength: 0.4, Seed resize from: 96x32, " in second
    parsed = parse_infotext(result.images[1].infotext)
    assert parsed["Variation seed"] == "301" and parsed["Variation seed strength"] == "0.4"
    assert parsed["Seed resize from-1"] == 96 and parsed["Seed resize from-2"] == 32


def test_resize_from_own_size_changes_nothing_and_another_size_does(ctx):
    plain = ctx.generation.txt2img(_request())
    same = ctx.generation.txt2img(_request(seed_resize_from_w=64, seed_resize_from_h=64))
    other = ctx.generation.txt2img(_request(seed_resize_from_w=32, seed_resize_from_h=32))
    one_side = ctx.generation.txt2img(_request(seed_resize_from_w=32, seed_resize_from_h=0))
    assert np.array_equal(_pixels(same), _pixels(plain))
    assert not np.array_equal(_pixels(other), _pixels(plain))
    assert np.array_equal(_pixels(one_side), _pixels(plain)), "resize-from is off unless both sides are set"
    assert "Seed resize from" not in one_side.images[0].infotext


def test_random_subseed_is_drawn_once_in_range(ctx):
    result = ctx.generation.txt2img(_request(batch_size=2, subseed=-1, subseed_strength=0.3))
    first = result.all_subseeds[0]
    assert 0 <= first < 4294967294 and result.all_subseeds == [first, first + 1]
    assert f"Variation seed: {first}," in result.images[0].infotext


def test_nv_source_is_deterministic_and_recorded(ctx):
    nv = {"randn_source": "NV"}
    first = ctx.generation.txt2img(_request(override_settings=nv))
    again = ctx.generation.txt2img(_request(override_settings=nv))
    cpu = ctx.generation.txt2img(_request())
    assert np.array_equal(_pixels(first), _pixels(again))
    assert not np.array_equal(_pixels(first), _pixels(cpu))
    assert ", RNG: NV," in first.images[0].infotext
    varied = ctx.generation.txt2img(_request(subseed=300, subseed_strength=1, override_settings=nv))
    assert np.array_equal(_pixels(varied), _pixels(ctx.generation.txt2img(_request(seed=300, override_settings=nv))))


def test_api_accepts_the_seed_fields_and_reports_them(ctx):
    body = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, "seed": 5, "batch_size": 2,
            "sampler_name": "Euler", "subseed": 900, "subseed_strength": 0.25, "seed_resize_from_w": 128,
            "seed_resize_from_h": 96}
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as client:
        response = client.post("/sdapi/v1/txt2img", json=body)
        assert response.status_code == 200, response.text
        info = json.loads(response.json()["info"])
        assert info["all_seeds"] == [5, 5] and info["subseed"] == 900 and info["all_subseeds"] == [900, 901]
        assert info["subseed_strength"] == 0.25
        assert (info["seed_resize_from_w"], info["seed_resize_from_h"]) == (128, 96)
        assert "Variation seed: 901, Variation seed strength: 0.25, Seed resize from: 128x96" in info["infotexts"][1]
        plain = json.loads(client.post("/sdapi/v1/txt2img", json={
            "steps": 1, "width": 64, "height": 64, "seed": 5, "subseed": None, "seed_resize_from_w": None}
        ).json()["info"])
        assert plain["subseed_strength"] == 0 and plain["seed_resize_from_w"] == -1
        assert len(plain["all_subseeds"]) == 1 and "Variation seed" not in plain["infotexts"][0]
        bad = client.post("/sdapi/v1/txt2img", json={"steps": 1, "width": 64, "height": 64, "subseed_strength": 2})
        assert bad.status_code == 422 and "subseed_strength" in bad.text
