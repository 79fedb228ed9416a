"""Initial noise per image, with A1111's seed semantics: each image's noise depends only on its own seed,
variation seed and strength (spherical interpolation) and "resize seed from" size (noise pasted centred).

Random sources (setting ``randn_source``): ``CPU`` draws with torch on the CPU (identical on every machine),
``GPU`` draws on the compute device (A1111's default; differs between devices; on a CPU-only machine it equals
``CPU``), ``NV`` reproduces on any device what an NVIDIA GPU draws (``rng_philox``).
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import torch

from modules.core.errors import InvalidRequest
from modules.core.seeds import NoiseSpec

from .rng_philox import PhiloxGenerator

LATENT_CHANNELS = 4
LATENT_SCALE = 8
RNG_SOURCES = ("CPU", "GPU", "NV")

# Above this mean cosine the two noises are nearly parallel and the sine terms lose precision, so A1111
# interpolates linearly instead.
_PARALLEL_COSINE = 0.9995

Draw = Callable[[int, tuple[int, ...]], torch.Tensor]


def generators(seeds: tuple[int, ...], device: torch.device | str = "cpu") -> list[torch.Generator]:
    """One generator per image on ``device``, seeded with that image's seed."""
    return [torch.Generator(device).manual_seed(int(seed)) for seed in seeds]


def _draw_device(rng_source: str | None, device: torch.device | str) -> torch.device:
    device = torch.device(device)
    if rng_source == "CPU" or device.type == "mps":  # MPS generators are not reproducible, A1111 uses the CPU
        return torch.device("cpu")
    return device


def seed_noise(seed: int, shape: tuple[int, ...], *, rng_source: str | None = None,
               device: torch.device | str = "cpu") -> torch.Tensor:
    """Float32 standard normal noise of ``shape``: the first draw of a fresh generator seeded with ``seed``.

    ``rng_source`` is ``CPU``, ``GPU`` or ``NV``; None draws with torch on ``device`` (what ``GPU`` does). The
    result stays where it was drawn (the CPU for ``CPU`` and ``NV``).
    """
    if rng_source is not None and rng_source not in RNG_SOURCES:
        raise InvalidRequest(f"randn_source must be one of {', '.join(RNG_SOURCES)}, got {rng_source!r}")
    if rng_source == "NV":
        return torch.from_numpy(PhiloxGenerator(int(seed)).randn(shape))
    where = _draw_device(rng_source, device)
    generator = torch.Generator(where).manual_seed(int(seed))
    return torch.randn(shape, generator=generator, device=where, dtype=torch.float32)


def slerp(strength: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation from ``low`` (0) to ``high`` (1) of (channels, height, width) noise.

    As in A1111, each (channel, column) vector along the height axis is interpolated on its own great circle,
    and nearly parallel inputs fall back to linear interpolation.
    """
    cosine = ((low / low.norm(dim=-2, keepdim=True)) * (high / high.norm(dim=-2, keepdim=True))).sum(dim=-2)
    if cosine.mean() > _PARALLEL_COSINE:
        # A1111 swaps the two weights here; that shows only when the noises are nearly equal (seed == subseed
        # gives the same result either way), so we keep the weights the right way round.
        return low * (1.0 - strength) + high * strength
    angle = torch.acos(cosine)
    sine = torch.sin(angle)
    weight_low = (torch.sin((1.0 - strength) * angle) / sine).unsqueeze(-2)
    weight_high = (torch.sin(strength * angle) / sine).unsqueeze(-2)
    return weight_low * low + weight_high * high


def _centre_window(outer: int, inner: int) -> tuple[int, int, int]:
    """(start in outer, start in inner, length) that centres ``inner`` in ``outer`` with A1111's rounding.

    A smaller patch goes at floor((outer - inner) / 2); a larger one is cropped by the same (negative, floored)
    amount on both sides, which may leave one row or column of ``outer`` uncovered.
    """
    offset = (outer - inner) // 2
    if offset >= 0:
        return offset, 0, inner
    return 0, -offset, inner + 2 * offset


def paste_centred(outer: torch.Tensor, patch: torch.Tensor) -> torch.Tensor:
    """Return ``outer`` (channels, height, width) with ``patch`` pasted at its centre (cropped when larger)."""
    top, src_top, rows = _centre_window(outer.shape[-2], patch.shape[-2])
    left, src_left, cols = _centre_window(outer.shape[-1], patch.shape[-1])
    result = outer.clone()
    result[..., top:top + rows, left:left + cols] = patch[..., src_top:src_top + rows, src_left:src_left + cols]
    return result


def image_noise(spec: NoiseSpec, shape: tuple[int, int, int], draw: Draw) -> torch.Tensor:
    """Noise of one image of ``shape`` (channels, H/8, W/8): seed noise, variation, then the resize-from paste.

    With ``resize_from`` the seed (and variation) noise is made at that size and pasted centred into the
    seed's own noise at the real size, so the centre of the picture survives a size change.
    """
    small = shape
    if spec.resize_from is not None:
        small = (shape[0], spec.resize_from[1] // LATENT_SCALE, spec.resize_from[0] // LATENT_SCALE)
    noise = draw(spec.seed, small)
    if spec.subseed_strength != 0:
        noise = slerp(spec.subseed_strength, noise, draw(spec.subseed, small))
    if small != shape:
        noise = paste_centred(draw(spec.seed, shape), noise)
    return noise


def initial_latents(seeds: tuple[int, ...], width: int, height: int, *, device: torch.device | str = "cpu",
                    channels: int = LATENT_CHANNELS, subseeds: tuple[int, ...] = (), subseed_strength: float = 0.0,
                    seed_resize_from: tuple[int, int] | None = None,
                    rng_source: str | None = None) -> torch.Tensor:
    """Unscaled Gaussian latents of shape (batch, channels, H/8, W/8); image i depends only on its own seeds.

    ``subseeds`` (one per image) are needed only when ``subseed_strength`` is not 0; ``seed_resize_from`` is a
    (width, height); ``rng_source`` is ``CPU``, ``GPU`` or ``NV`` (None: torch on ``device``, the behaviour of
    callers that pick the drawing device themselves). The result is on the device it was drawn on.
    """
    if subseed_strength != 0 and len(subseeds) != len(seeds):
        raise ValueError(f"{len(seeds)} seeds but {len(subseeds)} subseeds with a variation strength")
    shape = (channels, height // LATENT_SCALE, width // LATENT_SCALE)
    draw = partial(seed_noise, rng_source=rng_source, device=device)
    specs = [NoiseSpec(seed=seed, subseed=subseeds[i] if i < len(subseeds) else -1,
                       subseed_strength=subseed_strength, resize_from=seed_resize_from)
             for i, seed in enumerate(seeds)]
    return torch.stack([image_noise(spec, shape, draw) for spec in specs])

