"""Tests for modules.core.seeds."""
from __future__ import annotations

import doctest
import random

import pytest

from modules.core import seeds
from modules.core.errors import InvalidRequest
from modules.core.params import GenerationJob, Txt2ImgRequest
from modules.core.samplers import effective_schedule, resolve_sampler
from modules.core.seeds import MAX_SEED, NoiseSpec, image_seeds, plan_noise, resize_from, resolve_seed, variation_seeds
from modules.core.validation import validate_txt2img


def test_doctests():
    assert doctest.testmod(seeds).failed == 0


def test_max_seed_value():
    assert MAX_SEED == 4294967294


@pytest.mark.parametrize("value", [-1, None])
def test_random_seed_in_range(value):
    rng = random.Random(42)
    drawn = [resolve_seed(value, rng) for _ in range(200)]
    assert all(0 <= s < MAX_SEED for s in drawn)
    assert len(set(drawn)) > 190


def test_random_seed_without_rng():
    assert 0 <= resolve_seed(-1) < MAX_SEED


def test_random_seed_reproducible_with_rng():
    assert resolve_seed(-1, random.Random(7)) == resolve_seed(None, random.Random(7))


@pytest.mark.parametrize("value", [0, 1, 1234567890, MAX_SEED, 2**40, 2**64 + 5])
def test_explicit_seed_kept(value):
    assert resolve_seed(value) == value


@pytest.mark.parametrize("value", [True, 1.5, "12"])
def test_non_integer_seed_refused(value):
    with pytest.raises(InvalidRequest):
        resolve_seed(value)  # type: ignore[arg-type]


def test_image_seeds():
    assert image_seeds(5, 4) == (5, 6, 7, 8)
    assert image_seeds(MAX_SEED, 2) == (MAX_SEED, MAX_SEED + 1)
    assert image_seeds(1, 0) == ()
    with pytest.raises(InvalidRequest):
        image_seeds(1, -1)


def test_without_variation_seeds_count_up_and_subseeds_too():
    assert variation_seeds(100, 7, 0, 3) == ((100, 101, 102), (7, 8, 9))


@pytest.mark.parametrize("strength", [0.01, 0.5, 1])
def test_with_variation_every_image_shares_the_seed(strength):
    # A1111: seed + i only while the variation strength is 0; the subseed always counts up.
    assert variation_seeds(100, 7, strength, 3) == ((100, 100, 100), (7, 8, 9))


def test_resize_from_needs_both_sides():
    assert resize_from(640, 448) == (640, 448)
    for width, height in [(0, 0), (-1, -1), (512, 0), (0, 512), (-1, 512)]:
        assert resize_from(width, height) is None


def test_plan_noise_one_spec_per_image():
    plan = plan_noise(5, 50, 0.25, (768, 512), 3)
    assert plan == tuple(NoiseSpec(seed=5, subseed=50 + i, subseed_strength=0.25, resize_from=(768, 512))
                         for i in range(3))
    assert [s.seed for s in plan_noise(5, 50, 0, None, 2)] == [5, 6]


def test_noise_spec_is_frozen():
    spec = NoiseSpec(seed=1, subseed=2)
    with pytest.raises(AttributeError):
        spec.seed = 3  # type: ignore[misc]
    assert spec.subseed_strength == 0 and spec.resize_from is None


def test_job_noise_specs():
    sampler, schedule = resolve_sampler("Euler", "Automatic")
    job = GenerationJob(prompt="", negative_prompt="", steps=1, sampler=sampler,
                        schedule=effective_schedule(sampler, schedule), cfg_scale=7, width=64, height=64,
                        seeds=(3, 3), subseeds=(8, 9), subseed_strength=0.5, seed_resize_from=(32, 32))
    assert job.noise_specs() == (NoiseSpec(3, 8, 0.5, (32, 32)), NoiseSpec(3, 9, 0.5, (32, 32)))
    plain = GenerationJob(prompt="", negative_prompt="", steps=1, sampler=sampler, schedule=job.schedule,
                          cfg_scale=7, width=64, height=64, seeds=(1, 2))
    assert [s.seed for s in plain.noise_specs()] == [1, 2] and plain.subseed_strength == 0


@pytest.mark.parametrize("fields", [
    {"subseed": -1, "subseed_strength": 0, "seed_resize_from_w": -1, "seed_resize_from_h": -1},
    {"subseed": 0, "subseed_strength": 1, "seed_resize_from_w": 0, "seed_resize_from_h": 0},
    {"subseed": 2**32 - 1, "subseed_strength": 0.37, "seed_resize_from_w": 8, "seed_resize_from_h": 2048},
])
def test_seed_fields_accepted(fields):
    validate_txt2img(Txt2ImgRequest(**fields))


@pytest.mark.parametrize("name,value", [
    ("subseed", -2), ("subseed", 2**32), ("subseed_strength", -0.1), ("subseed_strength", 1.5),
    ("seed_resize_from_w", -2), ("seed_resize_from_h", 4), ("seed_resize_from_w", 100_000),
])
def test_seed_fields_out_of_range_refused(name, value):
    with pytest.raises(InvalidRequest, match=name):
        validate_txt2img(Txt2ImgRequest(**{name: value}))
