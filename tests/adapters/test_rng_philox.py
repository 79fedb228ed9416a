"""The NV random source: Philox-4x32-10 known answers, A1111's reference output, draw offsets, statistics."""
from __future__ import annotations

import numpy as np
import pytest

from modules.adapters.rng_philox import PhiloxGenerator, box_muller_sine, philox4x32

# Random123's published known-answer vectors for philox4x32 with 10 rounds (file kat_vectors):
# counter (4 words), key (2 words) -> output (4 words).
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

# torch.randn((3, 4)) on an NVIDIA GPU after seeding with 0, as A1111 documents it for its own NV source
# (modules/rng_philox.py). Printed with 8 digits, so compared to a few float32 steps.
CUDA_SEED0_3x4 = np.array([
    [-0.92466259, -0.42534415, -2.6438457, 0.14518388],
    [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
    [-1.07454231, -0.36314407, -1.67105067, 2.26550497],
])


@pytest.mark.parametrize("counter,key,expected", KNOWN_ANSWERS)
def test_philox_known_answers(counter, key, expected):
    words = philox4x32(tuple(np.array([c], dtype=np.uint32) for c in counter), tuple(np.uint32(k) for k in key))
    assert tuple(int(w[0]) for w in words) == expected


def test_matches_cuda_randn_for_seed_0():
    drawn = PhiloxGenerator(0).randn((3, 4))
    assert drawn.dtype == np.float32 and drawn.shape == (3, 4)
    np.testing.assert_allclose(drawn, CUDA_SEED0_3x4, rtol=0, atol=5e-7)


def test_same_seed_same_numbers_and_each_draw_moves_on():
    first, again = PhiloxGenerator(1234), PhiloxGenerator(1234)
    a1, a2 = first.randn((2, 8)), first.randn((2, 8))
    assert np.array_equal(a1, again.randn((2, 8))) and np.array_equal(a2, again.randn((2, 8)))
    assert not np.array_equal(a1, a2), "the second draw uses the next counter offset"
    assert first.offset == 2
    # Element i of a draw depends only on (seed, offset, i): a longer draw starts with the shorter one.
    assert np.array_equal(PhiloxGenerator(1234).randn((40,))[:16], a1.reshape(-1))


def test_second_draw_is_counter_word_0_plus_one():
    gen = PhiloxGenerator(99)
    gen.randn((4,))
    second = gen.randn((4,))
    index = np.arange(4, dtype=np.uint32)
    zeros = np.zeros(4, dtype=np.uint32)
    words = philox4x32((np.ones(4, dtype=np.uint32), zeros, index, zeros), (np.uint32(99), np.uint32(0)))
    assert np.array_equal(second, box_muller_sine(words[0], words[1]))


def test_the_high_half_of_a_64_bit_seed_counts():
    low = PhiloxGenerator(5).randn((16,))
    assert not np.array_equal(low, PhiloxGenerator(5 + 2**32).randn((16,)))
    assert not np.array_equal(low, PhiloxGenerator(6).randn((16,)))


def test_standard_normal_statistics():
    values = PhiloxGenerator(2024).randn((200_000,)).astype(np.float64)
    assert np.isfinite(values).all()
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1) < 0.01
    assert abs(np.mean(values**3)) < 0.03, "symmetric"
    assert abs(np.mean(values**4) - 3) < 0.06, "normal tails (kurtosis 3)"
    assert abs(np.mean(np.abs(values) < 1) - 0.6827) < 0.005


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_seed_out_of_range_refused(seed):
    with pytest.raises(ValueError):
        PhiloxGenerator(seed)
