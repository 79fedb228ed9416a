"""Tests for modules.core.seeds."""
from __future__ import annotations

import doctest
import random

import pytest

from modules.core import seeds
from modules.core.errors import InvalidRequest
from modules.core.seeds import MAX_SEED, image_seeds, resolve_seed


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
