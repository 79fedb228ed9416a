"""Seed rules of A1111: -1 means random, and image i of a job uses seed + i."""
from __future__ import annotations

import random

from modules.core.errors import InvalidRequest

MAX_SEED = 4294967294
"""Exclusive upper bound of random seeds: A1111 draws from [0, 4294967294)."""


def resolve_seed(seed: int | None, rng: random.Random | None = None) -> int:
    """Return `seed`, or a random seed in [0, MAX_SEED) when it is -1 or None (drawn once per job).

    >>> resolve_seed(1234)
    1234
    >>> resolve_seed(-1, random.Random(0)) == random.Random(0).randrange(MAX_SEED)
    True
    """
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool) and seed == -1):
        return (rng or random.SystemRandom()).randrange(MAX_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidRequest(f"seed must be an integer, got {seed!r}")
    return seed


def image_seeds(seed: int, count: int) -> tuple[int, ...]:
    """Return the seeds of `count` images of one job: seed, seed + 1, …

    >>> image_seeds(10, 3)
    (10, 11, 12)
    """
    if count < 0:
        raise InvalidRequest(f"image count must not be negative, got {count}")
    return tuple(seed + i for i in range(count))
