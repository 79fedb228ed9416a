"""Mask making, blur, crop region and fill (modules.core.masking) on real pictures."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageOps

from modules.core.errors import InvalidRequest
from modules.core.masking import (binary_mask, blur_mask, crop_region, expand_to_aspect, fill_masked,
                                  inpaint_sketch, latent_mask_for, mask_from_layers)
from tests.core.image_samples import box_mask, picture


def _reference_blur(mask: np.ndarray, sigma_x: int, sigma_y: int) -> np.ndarray:
    """OpenCV-style separable blur written with numpy: reflect-101 borders, rounding after each pass."""
    def one_pass(values, sigma, axis):
        half = int(2.5 * sigma + 0.5)
        offsets = np.arange(-half, half + 1)
        kernel = np.exp(-offsets.astype(float) ** 2 / (2 * sigma * sigma))
        kernel /= kernel.sum()
        pad = [(0, 0), (0, 0)]
        pad[axis] = (half, half)
        padded = np.pad(values, pad, mode="reflect")
        out = sum(w * np.take(padded, range(i, i + values.shape[axis]), axis=axis) for i, w in enumerate(kernel))
        return np.clip(np.floor(out + 0.5), 0, 255)
    values = mask.astype(float)
    if sigma_x:
        values = one_pass(values, sigma_x, 1)
    if sigma_y:
        values = one_pass(values, sigma_y, 0)
    return values.astype(np.uint8)


@pytest.mark.parametrize(("sigma_x", "sigma_y"), [(4, 4), (8, 2), (1, 0), (0, 6), (32, 32)])
def test_blur_matches_a_separable_gaussian_reference(sigma_x, sigma_y):
    mask = box_mask((160, 120), (30, 40, 90, 70))
    mask.paste(255, (0, 100, 12, 120))  # touches two borders: mirrored edges matter
    got = np.asarray(blur_mask(mask, sigma_x, sigma_y))
    assert np.array_equal(got, _reference_blur(np.asarray(mask), sigma_x, sigma_y))


def test_blur_is_symmetric_and_bounded():
    mask = box_mask((101, 81), (40, 30, 61, 51))  # centred square
    blurred = blur_mask(mask, 4, 4)
    values = np.asarray(blurred).astype(int)
    assert np.array_equal(values, values[:, ::-1]) and np.array_equal(values, values[::-1, :])
    assert values.max() == 255 and values.min() == 0
    radius = int(2.5 * 4 + 0.5)
    assert crop_region(blurred, 0) == (40 - radius, 30 - radius, 61 + radius, 51 + radius)
    assert np.asarray(blurred)[40, 50] == 255  # the centre, a full kernel radius inside, stays fully masked


def test_no_blur_returns_the_mask_unchanged():
    mask = box_mask((64, 64), (10, 10, 20, 20))
    assert np.array_equal(np.asarray(blur_mask(mask, 0, 0)), np.asarray(mask))


def test_binary_mask_from_rgba_and_grey():
    painted = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    painted.paste((255, 255, 255, 255), (2, 2, 6, 6))
    assert binary_mask(painted).getbbox() == (2, 2, 6, 6)
    grey = Image.new("RGB", (8, 8), (128, 128, 128))
    assert binary_mask(grey).getextrema() == (128, 128)  # partly masked, as A1111
    opaque = Image.new("RGBA", (8, 8), (255, 255, 255, 255))
    assert binary_mask(opaque).getextrema() == (255, 255)  # fully opaque RGBA: its grey value counts


def test_editor_layers_union_of_alphas():
    layer_a = Image.new("RGBA", (16, 16))
    layer_a.paste((255, 0, 0, 255), (0, 0, 4, 4))
    layer_b = Image.new("RGBA", (16, 16))
    layer_b.paste((0, 255, 0, 100), (8, 8, 12, 12))  # faint stroke: below the 128 threshold
    mask = mask_from_layers([layer_a, None, layer_b], (16, 16))
    assert mask.getbbox() == (0, 0, 4, 4)
    assert mask_from_layers([layer_a, layer_b], (16, 16), round_alpha=False).getbbox() == (0, 0, 12, 12)
    with pytest.raises(InvalidRequest, match="mask layer is 8x8"):
        mask_from_layers([Image.new("RGBA", (8, 8))], (16, 16))


def test_inpaint_sketch_masks_changed_pixels_scaled_by_transparency():
    original = picture(64, 64)
    sketch = original.copy()
    sketch.paste((255, 0, 255), (20, 20, 30, 30))
    image, mask = inpaint_sketch(sketch, original, transparency=0, blur=0)
    assert mask.getbbox() == (20, 20, 30, 30) and mask.getextrema() == (0, 255)
    assert image.crop((20, 20, 30, 30)).getextrema() == ((255, 255), (0, 0), (255, 255))
    _, half = inpaint_sketch(sketch, original, transparency=50, blur=0)
    assert half.getextrema() == (0, 127)  # 255 * 0.5 as Pillow's ImageEnhance (A1111 uses it too) rounds
    blurred, _ = inpaint_sketch(sketch, original, transparency=0, blur=4)
    far = (0, 0, 64, 8)  # far from the strokes: the original, untouched
    assert np.array_equal(np.asarray(blurred.crop(far)), np.asarray(original.crop(far)))
    _, empty = inpaint_sketch(sketch, None, transparency=0, blur=4)
    assert empty.getbbox() is None


def test_inpaint_sketch_size_mismatch_is_refused():
    with pytest.raises(InvalidRequest, match="sketch is 64x64 but the original image is 32x32"):
        inpaint_sketch(picture(64, 64), picture(32, 32), transparency=0, blur=4)


def test_crop_region_with_padding_is_clamped():
    mask = box_mask((256, 128), (100, 50, 140, 60))
    assert crop_region(mask, 0) == (100, 50, 140, 60)
    assert crop_region(mask, 32) == (68, 18, 172, 92)
    assert crop_region(mask, 200) == (0, 0, 256, 128)
    assert crop_region(Image.new("L", (8, 8)), 4) is None


@pytest.mark.parametrize(("box", "target", "expected"), [
    ((100, 100, 228, 132), (512, 512), (100, 52, 228, 180)),   # wide box grows in height around its centre
    ((100, 100, 132, 228), (512, 512), (52, 100, 180, 228)),   # tall box grows in width
    ((100, 0, 228, 32), (512, 512), (100, 0, 228, 128)),       # at the top edge: shifted down
    ((400, 100, 512, 110), (256, 512), (400, 0, 512, 224)),   # needs height 224 = 112 * 2
    ((0, 0, 400, 40), (512, 512), (0, 0, 400, 300)),           # image too short: clamped
])
def test_expand_to_aspect(box, target, expected):
    got = expand_to_aspect(box, *target, (512, 300))
    assert got == expected
    left, top, right, bottom = got
    if bottom - top < 300:  # not clamped: the ratio is reached (to the pixel)
        assert math.isclose((right - left) / (bottom - top), target[0] / target[1], rel_tol=0.02)


def test_fill_paints_the_masked_area_from_its_surroundings():
    image = Image.new("RGB", (64, 64), (200, 30, 30))
    image.paste((0, 0, 255), (32, 0, 64, 64))  # right half blue: will be masked
    image = Image.blend(image, picture(64, 64), 0.05)
    mask = box_mask((64, 64), (32, 0, 64, 64))
    filled = fill_masked(image, mask)
    left = (0, 0, 32, 64)
    assert np.array_equal(np.asarray(filled.crop(left)), np.asarray(image.crop(left)))  # unmasked: exact
    red, green, blue = (np.asarray(filled.crop((32, 0, 64, 64))).reshape(-1, 3).mean(axis=0))
    assert red > 150 and blue < 60  # the blue is gone, replaced by the neighbouring red


def test_latent_mask_is_resized_and_rounded():
    mask = box_mask((64, 64), (0, 0, 36, 64))
    small = latent_mask_for(mask, (8, 8))
    assert set(small.getdata()) == {0, 255}
    assert small.getpixel((3, 4)) == 255 and small.getpixel((5, 4)) == 0
    soft = latent_mask_for(ImageOps.invert(mask), (8, 8), round_values=False)
    assert len(set(soft.getdata())) > 2
