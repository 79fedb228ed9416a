"""Initial noise per image from its own seed on the CPU (A1111 ``RNG: CPU``), identical on every device."""
from __future__ import annotations

import torch

LATENT_CHANNELS = 4
LATENT_SCALE = 8


def cpu_generators(seeds: tuple[int, ...]) -> list[torch.Generator]:
    """One CPU generator per image, seeded with that image's seed."""
    return [torch.Generator("cpu").manual_seed(int(seed)) for seed in seeds]


def initial_latents(seeds: tuple[int, ...], width: int, height: int, *,
                    channels: int = LATENT_CHANNELS) -> torch.Tensor:
    """Unscaled Gaussian latents of shape (batch, channels, H/8, W/8); image i depends only on seeds[i]."""
    shape = (1, channels, height // LATENT_SCALE, width // LATENT_SCALE)
    noise = [torch.randn(shape, generator=gen, dtype=torch.float32) for gen in cpu_generators(seeds)]
    return torch.cat(noise, dim=0)
