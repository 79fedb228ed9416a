"""Outpainting plans (modules.core.outpaint): canvas growth, masks, and the original surviving paste-back."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageChops

from modules.core.errors import InvalidRequest
from modules.core.img2img_inputs import apply_overlay, prepare_img2img
from modules.core.outpaint import Outpaint, plan_outpaint, poor_mans_margins
from modules.core.params import Img2ImgRequest
from modules.core.validation import validate_img2img
from tests.core.image_samples import noise_image, picture


def _run(original, spec, generated_seed=7):
    """Plan, prepare and paste back an arbitrary "generated" image, as the diffusion side would."""
    plan = plan_outpaint(original, spec)
    request = plan.apply_to(Img2ImgRequest(init_images=(original,), steps=20))
    validate_img2img(request)
    prepared = prepare_img2img(request)
    generated = noise_image(request.width, request.height, generated_seed)
    return plan, prepared, apply_overlay(generated, prepared)


def test_outpaint_64_right_grows_the_width_and_keeps_the_left_part():
    original = picture(128, 96)
    plan, prepared, out = _run(original, Outpaint(right=64))
    assert out.size == (192, 96) and plan.original_box == (0, 0, 128, 96)
    # mask 4 -> overlap 8 px, blur 8 (radius 20): the first 100 columns are untouched
    assert plan.preserved_box == (0, 0, 100, 96)
    assert ImageChops.difference(out.crop(plan.preserved_box), original.crop(plan.preserved_box)).getbbox() is None
    new_area = np.asarray(out)[:, 140:]
    assert np.array_equal(new_area, np.asarray(noise_image(192, 96, 7))[:, 140:])  # generated content shows


def test_without_blur_the_whole_original_region_survives():
    original = picture(96, 64)
    plan, _, out = _run(original, Outpaint(left=32, up=16, down=16, mask_blur=0))
    assert out.size == (128, 96) and plan.original_box == (32, 16, 128, 80)
    assert plan.preserved_box == plan.original_box
    assert ImageChops.difference(out.crop(plan.original_box), original).getbbox() is None


def test_masks_cover_the_new_area_and_a_seam_band():
    plan = plan_outpaint(picture(128, 96), Outpaint(left=32, right=32, mask_blur=4))
    mask = np.asarray(plan.mask)
    assert mask[:, :40].min() == 255 and mask[:, 152:].min() == 255  # new area + 8 px seam, both sides
    assert mask[:, 40:152].max() == 0
    latent = np.asarray(plan.latent_mask)
    assert latent[:, :34].min() == 255 and latent[:, 34:158].max() == 0  # Poor man's: inset blur // 2
    assert plan.mask_blur == 8 and plan.inpainting_fill == 0
    assert plan.init_image.crop((0, 0, 32, 96)).getextrema() == ((0, 0),) * 3  # black until "fill" paints it


def test_noise_fill_is_deterministic_and_leaves_the_original():
    original = picture(96, 64)
    spec = Outpaint(down=32, mask_blur=8, noise_fill=True)
    first, second = plan_outpaint(original, spec), plan_outpaint(original, spec)
    assert ImageChops.difference(first.init_image, second.init_image).getbbox() is None
    assert ImageChops.difference(first.init_image.crop((0, 0, 96, 64)), original).getbbox() is None
    assert first.init_image.crop((0, 64, 96, 96)).getextrema() != ((0, 0),) * 3
    assert first.mask_blur == 32 and first.inpainting_fill == 1  # mk2: blur x4, masked content "original"
    assert np.asarray(first.mask)[:56].max() == 0 and np.asarray(first.mask)[56:].min() == 255


def test_poor_mans_margins_grow_to_multiples_of_64():
    spec = poor_mans_margins((500, 512), 128, ("left", "right", "up"))
    assert (500 + spec.left + spec.right) % 64 == 0 and (512 + spec.up + spec.down) % 64 == 0
    assert (spec.left, spec.right, spec.up, spec.down) == (134, 134, 128, 0)
    with pytest.raises(InvalidRequest, match="unknown outpainting direction"):
        poor_mans_margins((64, 64), 64, ("sideways",))


def test_outpaint_refuses_nothing_to_do():
    with pytest.raises(InvalidRequest, match="at least one side"):
        plan_outpaint(picture(64, 64), Outpaint())
