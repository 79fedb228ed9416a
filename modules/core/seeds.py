"""Seed rules of A1111: -1 means random, image i uses seed + i, variation seeds and "resize seed from"."""
from __future__ import annotations

import random
from dataclasses import dataclass

from modules.core.errors import InvalidRequest

MAX_SEED = 4294967294
"""Exclusive upper bound of random seeds: A1111 draws from [0, 4294967294)."""


@dataclass(frozen=True)
class NoiseSpec:
    """How one image's initial noise is made.

    ``subseed_strength`` 0 means the noise of ``seed`` alone, 1 the noise of ``subseed`` alone;
    ``resize_from`` is the (width, height) whose noise is pasted centred, or None.
    """

    seed: int
    subseed: int
    subseed_strength: float = 0.0
    resize_from: tuple[int, int] | None = None


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


def variation_seeds(seed: int, subseed: int, subseed_strength: float,
                    count: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return (seeds, subseeds) of `count` images, both already resolved.

    Subseeds always count up. Seeds count up only without variation: with a variation strength every image
    shares the main seed and differs by its subseed, as in A1111.

    >>> variation_seeds(10, 50, 0, 3)
    ((10, 11, 12), (50, 51, 52))
    >>> variation_seeds(10, 50, 0.3, 3)
    ((10, 10, 10), (50, 51, 52))
    """
    subseeds = image_seeds(subseed, count)
    if subseed_strength == 0:
        return image_seeds(seed, count), subseeds
    return (seed,) * count, subseeds


def resize_from(width: int, height: int) -> tuple[int, int] | None:
    """Return (width, height) to take the noise from, or None when either is off (0 in the UI, -1 in the API).

    >>> resize_from(768, 512), resize_from(0, 512), resize_from(-1, -1)
    ((768, 512), None, None)
    """
    return (width, height) if width > 0 and height > 0 else None


def plan_noise(seed: int, subseed: int, subseed_strength: float, resize: tuple[int, int] | None,
               count: int) -> tuple[NoiseSpec, ...]:
    """Return one NoiseSpec per image from resolved seeds (see ``variation_seeds``).

    >>> [s.seed for s in plan_noise(7, 100, 0.5, None, 2)], [s.subseed for s in plan_noise(7, 100, 0.5, None, 2)]
    ([7, 7], [100, 101])
    """
    seeds, subseeds = variation_seeds(seed, subseed, subseed_strength, count)
    return tuple(NoiseSpec(seed=s, subseed=sub, subseed_strength=subseed_strength, resize_from=resize)
                 for s, sub in zip(seeds, subseeds))
