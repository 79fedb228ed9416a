"""Initial noise per image from its own seed: on the CPU by default (A1111 ``RNG: CPU``, identical on every
device), or on the device itself (``RNG: GPU``, A1111's default, which differs between devices)."""
from __future__ import annotations

import torch

LATENT_CHANNELS = 4
LATENT_SCALE = 8


def generators(seeds: tuple[int, ...], device: torch.device | str = "cpu") -> list[torch.Generator]:
    """One generator per image on ``device``, seeded with that image's seed."""
    return [torch.Generator(device).manual_seed(int(seed)) for seed in seeds]


def initial_latents(seeds: tuple[int, ...], width: int, height: int, *, device: torch.device | str = "cpu",
                    channels: int = LATENT_CHANNELS) -> torch.Tensor:
    """Unscaled Gaussian latents of shape (batch, channels, H/8, W/8); image i depends only on seeds[i]."""
    shape = (1, channels, height // LATENT_SCALE, width // LATENT_SCALE)
    noise = [torch.randn(shape, generator=gen, device=gen.device, dtype=torch.float32)
             for gen in generators(seeds, device)]
    return torch.cat(noise, dim=0)
