"""Initial noise: one generator per image, so an image's noise never depends on its batch neighbours."""
from __future__ import annotations

import torch

from modules.adapters.latents import initial_latents


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
