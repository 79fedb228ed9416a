"""Noise drawn during sampling, per image from its own CPU generator, so batch image i equals seed + i alone."""
from __future__ import annotations

import bisect

import torch


def noise_generators(seeds: tuple[int, ...], ensd: int, latent_shape: tuple[int, ...],
                     device: torch.device | str = "cpu") -> list[torch.Generator]:
    """Per-image generators for in-sampling noise, A1111 style.

    With ENSD (``eta_noise_seed_delta``) non-zero each generator is re-seeded with ``seed + ENSD``; otherwise it
    continues after the initial noise (we skip one latent-sized draw), so the first ancestral noise is not a copy
    of the initial noise.
    """
    gens = []
    for seed in seeds:
        gen = torch.Generator(device).manual_seed(int(seed) + int(ensd))
        if not ensd:
            torch.randn((1, *latent_shape), generator=gen, device=gen.device)
        gens.append(gen)
    return gens


class NoiseSource:
    """Gaussian noise and Brownian increments shaped like the batch, drawn image by image."""

    def __init__(self, generators: list[torch.Generator], like: torch.Tensor):
        self._gens, self._shape = generators, (1, *like.shape[1:])
        self._device, self._dtype = like.device, like.dtype
        self._paths = [_BrownianPath(self._draw_one(gen)) for gen in generators]

    def _draw_one(self, gen: torch.Generator):
        return lambda: torch.randn(self._shape, generator=gen, device=gen.device, dtype=torch.float32)

    def gaussian(self) -> torch.Tensor:
        """Standard normal noise for the whole batch."""
        return torch.cat([torch.randn(self._shape, generator=g, device=g.device) for g in self._gens]).to(
            self._device, self._dtype)

    def brownian(self, sigma: float, sigma_next: float) -> torch.Tensor:
        """Normalised increment (W(next) - W(sigma)) / sqrt(|next - sigma|) of one Brownian path per image."""
        scale = abs(sigma_next - sigma) ** 0.5
        parts = [(path.at(sigma_next) - path.at(sigma)) / scale for path in self._paths]
        return torch.cat(parts).to(self._device, self._dtype)


class _BrownianPath:
    """A Brownian motion over sigma, sampled lazily: new points extend the path or bridge known neighbours.

    Ours: k-diffusion uses torchsde's Brownian tree; we only need consistent increments for the intervals the
    SDE samplers ask for, which a lazily sampled path with Brownian-bridge refinement gives exactly.
    """

    def __init__(self, draw):
        self._draw, self._times, self._values = draw, [], []

    def at(self, s: float) -> torch.Tensor:
        s = float(s)
        i = bisect.bisect_left(self._times, s)
        if i < len(self._times) and self._times[i] == s:
            return self._values[i]
        if not self._times:
            value = torch.zeros_like(self._draw())
        elif i == 0 or i == len(self._times):
            j = 0 if i == 0 else i - 1
            value = self._values[j] + self._draw() * abs(s - self._times[j]) ** 0.5
        else:
            (t0, w0), (t1, w1) = (self._times[i - 1], self._values[i - 1]), (self._times[i], self._values[i])
            mean = w0 + (w1 - w0) * (s - t0) / (t1 - t0)
            value = mean + self._draw() * ((s - t0) * (t1 - s) / (t1 - t0)) ** 0.5
        self._times.insert(i, s)
        self._values.insert(i, value)
        return value
