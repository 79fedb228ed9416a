"""Initial noise: one generator per image, variation seeds, resize-from and the three random sources."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from modules.adapters.latents import initial_latents, paste_centred, seed_noise, slerp
from modules.adapters.rng_philox import PhiloxGenerator
from modules.core.errors import InvalidRequest


def test_each_image_noise_depends_only_on_its_seed():
    batch = initial_latents((5, 6, 7), 64, 48)
    assert batch.shape == (3, 4, 6, 8)
    for index, seed in enumerate((5, 6, 7)):
        assert torch.equal(batch[index:index + 1], initial_latents((seed,), 64, 48))
    assert not torch.equal(batch[0], batch[1])


def test_noise_is_standard_normal_and_reproducible():
    noise = initial_latents((123,), 512, 512)
    assert torch.equal(noise, initial_latents((123,), 512, 512))
    assert abs(noise.mean().item()) < 0.05 and abs(noise.std().item() - 1) < 0.05


def _torch_noise(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed))


def test_default_call_is_the_seed_first_draw_on_the_cpu():
    assert torch.equal(initial_latents((42,), 64, 32)[0], _torch_noise(42, (4, 4, 8)))
    assert torch.equal(initial_latents((42,), 64, 32, rng_source="CPU"), initial_latents((42,), 64, 32))


def test_variation_strength_endpoints_are_exact():
    plain = initial_latents((10, 11), 64, 64)
    zero = initial_latents((10, 11), 64, 64, subseeds=(500, 501), subseed_strength=0.0)
    full = initial_latents((10, 11), 64, 64, subseeds=(500, 501), subseed_strength=1.0)
    assert torch.equal(zero, plain)
    assert torch.equal(full, initial_latents((500, 501), 64, 64))


def test_variation_in_between_differs_from_both_and_stays_normal():
    half = initial_latents((10,), 512, 512, subseeds=(500,), subseed_strength=0.5)
    assert not torch.equal(half, initial_latents((10,), 512, 512))
    assert not torch.equal(half, initial_latents((500,), 512, 512))
    assert abs(half.std().item() - 1) < 0.05, "spherical, not linear: linear mixing would shrink std to ~0.71"


def test_slerp_endpoints_and_norms_per_column():
    low, high = _torch_noise(1, (4, 16, 8)), _torch_noise(2, (4, 16, 8))
    assert torch.equal(slerp(0.0, low, high), low) and torch.equal(slerp(1.0, low, high), high)
    low, high = low / low.norm(dim=1, keepdim=True), high / high.norm(dim=1, keepdim=True)
    mixed = slerp(0.3, low, high)
    # Each (channel, column) vector along the height stays on the unit sphere.
    assert torch.allclose(mixed.norm(dim=1), torch.ones(4, 8), atol=1e-5)


def test_slerp_of_nearly_parallel_noise_is_linear_and_finite():
    noise = _torch_noise(3, (4, 8, 8))
    assert torch.allclose(slerp(0.4, noise, noise), noise)
    nearly = noise + 1e-4 * _torch_noise(4, (4, 8, 8))
    result = slerp(0.25, noise, nearly)
    assert torch.isfinite(result).all()
    assert torch.allclose(result, 0.75 * noise + 0.25 * nearly)


def test_variation_batch_image_equals_single():
    batch = initial_latents((7, 7, 7), 64, 48, subseeds=(30, 31, 32), subseed_strength=0.3)
    for index, subseed in enumerate((30, 31, 32)):
        single = initial_latents((7,), 64, 48, subseeds=(subseed,), subseed_strength=0.3)
        assert torch.equal(batch[index:index + 1], single)


def test_variation_needs_one_subseed_per_image():
    with pytest.raises(ValueError):
        initial_latents((1, 2), 64, 64, subseeds=(5,), subseed_strength=0.5)


def test_resize_from_smaller_keeps_its_noise_in_the_centre():
    noise = initial_latents((9,), 128, 96, seed_resize_from=(64, 32))[0]  # latent 12x16, patch 4x8
    small = initial_latents((9,), 64, 32)[0]
    full = initial_latents((9,), 128, 96)[0]
    assert torch.equal(noise[:, 4:8, 4:12], small)
    outside = torch.ones_like(noise, dtype=torch.bool)
    outside[:, 4:8, 4:12] = False
    assert torch.equal(noise[outside], full[outside]), "the rest is the seed's noise at the real size"


def test_resize_from_larger_keeps_the_centre_crop():
    noise = initial_latents((9,), 64, 64, seed_resize_from=(128, 96))[0]  # latent 8x8 from 12x16
    big = initial_latents((9,), 128, 96)[0]
    assert torch.equal(noise, big[:, 2:10, 4:12])


def test_resize_from_with_odd_overhang_leaves_a1111s_uncovered_strip():
    outer, patch = torch.zeros(1, 8, 8), torch.arange(1.0, 122.0).reshape(1, 11, 11)
    pasted = paste_centred(outer, patch)
    # (8 - 11) // 2 = -2: a window of 11 - 4 = 7 taken from index 2, so the last row and column stay as they were.
    assert torch.equal(pasted[:, :7, :7], patch[:, 2:9, 2:9])
    assert torch.equal(pasted[:, 7, :], torch.zeros(1, 8)) and torch.equal(pasted[:, :, 7], torch.zeros(1, 8))


def test_resize_from_with_variation_varies_the_centre_only():
    plain = initial_latents((9,), 128, 96, seed_resize_from=(64, 32))[0]
    varied = initial_latents((9,), 128, 96, subseeds=(5,), subseed_strength=1.0, seed_resize_from=(64, 32))[0]
    assert torch.equal(varied[:, 4:8, 4:12], initial_latents((5,), 64, 32)[0])
    varied[:, 4:8, 4:12] = plain[:, 4:8, 4:12]
    assert torch.equal(varied, plain)


def test_gpu_source_on_a_cpu_device_equals_cpu():
    assert torch.equal(initial_latents((3,), 64, 64, rng_source="GPU"), initial_latents((3,), 64, 64))


def test_nv_source_is_the_philox_generator():
    nv = initial_latents((0, 1), 32, 24, rng_source="NV")
    assert nv.dtype == torch.float32 and nv.shape == (2, 4, 3, 4)
    assert np.array_equal(nv[0].numpy(), PhiloxGenerator(0).randn((4, 3, 4)))
    assert np.array_equal(nv[1].numpy(), PhiloxGenerator(1).randn((4, 3, 4)))
    assert not torch.equal(nv, initial_latents((0, 1), 32, 24, rng_source="CPU"))
    varied = initial_latents((0,), 32, 24, subseeds=(1,), subseed_strength=1.0, rng_source="NV")
    assert torch.equal(varied[0], nv[1])


def test_unknown_source_refused():
    with pytest.raises(InvalidRequest, match="randn_source"):
        seed_noise(1, (2, 2), rng_source="TPU")
