"""Resize modes, "Resize by" sizes and flattening (modules.core.resize_modes) on real pictures."""
from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from modules.core.errors import InvalidRequest
from modules.core.resize_modes import (ResizeMode, flatten, needs_latent_resize, resize_image, resize_mode,
                                       scaled_size)
from tests.core.image_samples import picture

LANCZOS = Image.Resampling.LANCZOS


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("source", [(200, 100), (100, 200), (64, 64), (1000, 30)])
def test_every_mode_returns_the_target_size(mode, source):
    assert resize_image(picture(*source), 128, 96, mode).size == (128, 96)


def test_just_resize_is_a_lanczos_stretch():
    image = picture(200, 100)
    assert _same(resize_image(image, 96, 96, 0), image.resize((96, 96), LANCZOS))


def test_crop_and_resize_covers_and_keeps_the_centre():
    image = picture(200, 100)  # 2:1 into 1:1 -> scale to 200x100 (height fits), keep the middle 100 columns
    assert _same(resize_image(image, 100, 100, 1), image.crop((50, 0, 150, 100)))
    tall = picture(60, 240)  # 1:4 into 1:1 -> scale to 96x384, keep the middle 96 rows
    expected = tall.resize((96, 384), LANCZOS).crop((0, 144, 96, 240))
    assert _same(resize_image(tall, 96, 96, 1), expected)


def test_resize_and_fill_keeps_the_whole_image_and_stretches_edge_rows():
    image = picture(200, 100)
    image.paste((255, 0, 0), (0, 0, 200, 3))  # top rows red, bottom rows blue
    image.paste((0, 0, 255), (0, 97, 200, 100))
    out = resize_image(image, 100, 100, 2)
    inner = image.resize((100, 50), LANCZOS)
    assert _same(out.crop((0, 25, 100, 75)), inner)  # the whole picture, fitted and centred
    top, bottom = out.crop((0, 0, 100, 25)), out.crop((0, 75, 100, 100))
    assert top.getextrema() == ((255, 255), (0, 0), (0, 0))
    assert bottom.getextrema() == ((0, 0), (0, 0), (255, 255))


def test_resize_and_fill_sideways_bands():
    image = picture(50, 100)
    out = resize_image(image, 100, 100, 2)
    assert _same(out.crop((25, 0, 75, 100)), image)
    # each band row is a stretch of the image's own edge columns: flat along x
    for band in (out.crop((0, 0, 25, 100)), out.crop((75, 0, 100, 100))):
        for y in (0, 40, 99):
            row = {band.getpixel((x, y)) for x in range(25)}
            assert len(row) == 1


def test_latent_upscale_mode_keeps_the_image_size():
    image = picture(200, 100)
    out = resize_image(image, 512, 512, 3)
    assert _same(out, image) and out is not image
    assert needs_latent_resize(3) and not needs_latent_resize(2)


def test_upscaler_hook_runs_only_when_enlarging_and_never_on_masks():
    calls = []

    def upscaler(image, scale):
        calls.append(scale)
        return image.resize((int(image.width * scale) + 3, int(image.height * scale) + 3), Image.Resampling.NEAREST)

    assert resize_image(picture(64, 32), 256, 128, 0, upscaler=upscaler).size == (256, 128)
    assert calls == [4.0]
    resize_image(picture(64, 32), 32, 16, 0, upscaler=upscaler)  # shrinking: no call
    resize_image(Image.new("L", (64, 32)), 256, 128, 0, upscaler=upscaler)  # masks: Lanczos only
    assert calls == [4.0]


def test_resize_mode_names_and_errors():
    assert [m.label for m in ResizeMode] == ["Just resize", "Crop and resize", "Resize and fill",
                                            "Just resize (latent upscale)"]
    with pytest.raises(InvalidRequest, match="resize_mode must be 0, 1, 2 or 3, got 4"):
        resize_mode(4)


def test_scaled_size_is_floored_to_multiples_of_eight():
    assert scaled_size(512, 512, 2) == (1024, 1024)
    assert scaled_size(1023, 767, 0.5) == (504, 376)
    with pytest.raises(InvalidRequest):
        scaled_size(512, 512, 0)


def test_flatten_composites_transparency_over_the_background():
    image = Image.new("RGBA", (4, 4), (10, 20, 30, 255))
    image.putpixel((0, 0), (10, 20, 30, 0))
    flat = flatten(image, "#808080")
    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (128, 128, 128) and flat.getpixel((1, 1)) == (10, 20, 30)
