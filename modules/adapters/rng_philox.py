"""A1111's "NV" random source: Philox-4x32-10 and Box-Muller in numpy, giving on any device the normal numbers
that ``torch.randn`` draws on an NVIDIA GPU (curand), so a seed makes the same noise everywhere.

Layout of one draw (as A1111 arranges it): the key is the 64-bit seed split into two 32-bit words; element ``i``
of a draw uses the counter ``(offset, 0, i, 0)``, where ``offset`` counts the draws made by the generator; of
the four 32-bit outputs the first two feed one Box-Muller sine branch and the other two are discarded.
"""
from __future__ import annotations

import math

import numpy as np

# Philox-4x32 multipliers and Weyl key increments (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
_MUL_A = np.uint64(0xD2511F53)
_MUL_B = np.uint64(0xCD9E8D57)
_KEY_STEP_A = np.uint32(0x9E3779B9)
_KEY_STEP_B = np.uint32(0xBB67AE85)
_ROUNDS = 10

# curand's float constants: 2**-32 and 2*pi, each rounded to float32 as the CUDA code writes them.
_INV_2POW32 = float(np.float32(2.3283064e-10))
_INV_2POW32_2PI = float(np.float32(2.3283064e-10 * 6.2831855))


def _mul_hi_lo(word: np.ndarray, multiplier: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Full 64-bit product of 32-bit words, split into its high and low 32-bit halves."""
    product = word.astype(np.uint64) * multiplier
    return (product >> np.uint64(32)).astype(np.uint32), product.astype(np.uint32)


def philox4x32(counter: tuple[np.ndarray, ...], key: tuple[np.uint32, np.uint32]) -> tuple[np.ndarray, ...]:
    """Return the four 32-bit output words of Philox-4x32-10 for each counter column (arrays of uint32)."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    with np.errstate(over="ignore"):  # key increments wrap modulo 2**32 by design
        for round_index in range(_ROUNDS):
            hi_a, lo_a = _mul_hi_lo(c0, _MUL_A)
            hi_b, lo_b = _mul_hi_lo(c2, _MUL_B)
            c0, c1, c2, c3 = hi_b ^ c1 ^ k0, lo_b, hi_a ^ c3 ^ k1, lo_a
            if round_index < _ROUNDS - 1:
                k0, k1 = np.uint32(k0 + _KEY_STEP_A), np.uint32(k1 + _KEY_STEP_B)
    return c0, c1, c2, c3


def box_muller_sine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Turn two uniform 32-bit words into one standard normal value (the sine branch), as float32.

    Both words map to the open interval (0, 1) by adding half a step, so the logarithm never sees 0.
    """
    radius_source = first * _INV_2POW32 + _INV_2POW32 / 2
    angle = second * _INV_2POW32_2PI + _INV_2POW32_2PI / 2
    return (np.sqrt(-2.0 * np.log(radius_source)) * np.sin(angle)).astype(np.float32)


class PhiloxGenerator:
    """Standard normal numbers identical to ``torch.randn`` on CUDA for the same seed, computed with numpy."""

    def __init__(self, seed: int):
        if not 0 <= int(seed) < 2**64:
            raise ValueError(f"seed must fit in 64 unsigned bits, got {seed}")
        self.seed = int(seed)
        self.offset = 0

    def randn(self, shape: tuple[int, ...]) -> np.ndarray:
        """Return a float32 array of ``shape``; each call moves on to the next counter offset."""
        count = math.prod(shape)
        if count >= 2**32:
            raise ValueError(f"one draw holds at most 2**32 - 1 numbers, asked for {count}")
        index = np.arange(count, dtype=np.uint32)
        zeros = np.zeros(count, dtype=np.uint32)
        offset = np.full(count, self.offset, dtype=np.uint32)
        key = (np.uint32(self.seed & 0xFFFFFFFF), np.uint32(self.seed >> 32))
        words = philox4x32((offset, zeros, index, zeros), key)
        self.offset += 1
        return box_muller_sine(words[0], words[1]).reshape(shape)
