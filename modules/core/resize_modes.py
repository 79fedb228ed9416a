"""A1111's four img2img resize modes, "Resize by" sizes and flattening of transparent init images (Pillow only)."""
from __future__ import annotations

from enum import IntEnum
from typing import Callable

from PIL import Image

from modules.core.errors import InvalidRequest

LATENT_SCALE = 8
"""Pixels per latent pixel: the VAE downsamples 8x, so sizes are floored to multiples of 8."""

Upscaler = Callable[[Image.Image, float], Image.Image]
"""``upscaler(image, scale) -> image``: enlarges by about `scale` (> 1); A1111's `upscaler_for_img2img` hook.

The result need not have the exact target size: it is Lanczos-resized to it afterwards.
"""


class ResizeMode(IntEnum):
    """Values of ``resize_mode`` (API) / the img2img "Resize mode" radio (UI), in A1111's order."""

    JUST_RESIZE = 0
    CROP_AND_RESIZE = 1
    RESIZE_AND_FILL = 2
    LATENT_UPSCALE = 3

    @property
    def label(self) -> str:
        """The UI label, e.g. ``Just resize (latent upscale)``."""
        return RESIZE_MODE_LABELS[self]


RESIZE_MODE_LABELS: tuple[str, ...] = ("Just resize", "Crop and resize", "Resize and fill",
                                       "Just resize (latent upscale)")


def resize_mode(value: int) -> ResizeMode:
    """Return the ResizeMode for an API/UI integer; InvalidRequest names the allowed values.

    >>> resize_mode(2).label
    'Resize and fill'
    """
    try:
        return ResizeMode(value)
    except ValueError:
        raise InvalidRequest(f"resize_mode must be 0, 1, 2 or 3, got {value!r}") from None


def needs_latent_resize(mode: int) -> bool:
    """True for mode 3: the init image keeps its size and the *latent* is resized (bilinear) to W/8 x H/8.

    >>> needs_latent_resize(3), needs_latent_resize(0)
    (True, False)
    """
    return resize_mode(mode) is ResizeMode.LATENT_UPSCALE


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """Target size of "Resize by": A1111's ``int(side * scale)``, floored to a multiple of 8.

    A1111 passes ``int(side * scale)`` on unrounded; its latent is then ``side // 8`` wide, so its output is the
    floored size anyway. Flooring here gives the same output size and a request that validates.

    >>> scaled_size(512, 768, 1.5), scaled_size(500, 333, 1.0), scaled_size(640, 480, 0.05)
    ((768, 1152), (496, 328), (32, 24))
    """
    if not scale > 0:
        raise InvalidRequest(f"scale must be greater than 0, got {scale}")
    return (int(width * scale) // LATENT_SCALE * LATENT_SCALE, int(height * scale) // LATENT_SCALE * LATENT_SCALE)


def flatten(image: Image.Image, background: str = "#ffffff") -> Image.Image:
    """Return an RGB copy; transparent pixels are composited over `background` (A1111 `img2img_background_color`).

    >>> flatten(Image.new("RGBA", (2, 2), (255, 0, 0, 0))).getpixel((0, 0))
    (255, 255, 255)
    """
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, background)
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")


def resize_image(image: Image.Image, width: int, height: int, mode: int, *,
                 upscaler: Upscaler | None = None) -> Image.Image:
    """Resize as A1111's ``resize_image``: 0 stretch, 1 cover + centre crop, 2 fit + stretched edge strips.

    Mode 3 (latent upscale) returns a copy at the image's own size: the caller encodes it and resizes the latent
    to ``width // 8`` x ``height // 8`` (see `needs_latent_resize`). Masks and overlays that A1111 resizes "with
    mode 3" go through mode 2 in A1111; `modules.core.img2img_inputs` stretches them instead so they line up
    with the stretched latent. Modes 1 and 2 return RGB, like A1111 (an L mask comes back as grey RGB).
    """
    chosen = resize_mode(mode)
    if width < 1 or height < 1:
        raise InvalidRequest(f"target size must be positive, got {width}x{height}")
    if chosen is ResizeMode.LATENT_UPSCALE:
        return image.copy()
    if chosen is ResizeMode.JUST_RESIZE:
        return _scaled(image, width, height, upscaler)
    target_ratio, source_ratio = width / height, image.width / image.height
    if chosen is ResizeMode.CROP_AND_RESIZE:
        inner_w = width if target_ratio > source_ratio else image.width * height // image.height
        inner_h = height if target_ratio <= source_ratio else image.height * width // image.width
    else:
        inner_w = width if target_ratio < source_ratio else image.width * height // image.height
        inner_h = height if target_ratio >= source_ratio else image.height * width // image.width
    inner = _scaled(image, inner_w, inner_h, upscaler)
    result = Image.new("RGB", (width, height))
    result.paste(inner, (width // 2 - inner_w // 2, height // 2 - inner_h // 2))
    if chosen is ResizeMode.RESIZE_AND_FILL:
        _fill_borders(result, inner, target_ratio, source_ratio)
    return result


def _scaled(image: Image.Image, width: int, height: int, upscaler: Upscaler | None) -> Image.Image:
    """Lanczos to the size; an upscaler first when enlarging (never for L masks, as in A1111)."""
    if upscaler is not None and image.mode != "L":
        scale = max(width / image.width, height / image.height)
        if scale > 1.0:
            image = upscaler(image, scale)
    if image.size == (width, height):
        return image.copy()
    return image.resize((width, height), resample=Image.Resampling.LANCZOS)


def _fill_borders(result: Image.Image, inner: Image.Image, target_ratio: float, source_ratio: float) -> None:
    """Fill the empty bands by stretching the image's outermost rows/columns across them, in place.

    A zero-height (or zero-width) source box on the image edge makes Pillow's default (bicubic) filter sample
    the outermost two rows (columns) there: the exact "Resize and fill" look of A1111, not a plain edge copy.
    """
    width, height = result.size
    if target_ratio < source_ratio:
        band = height // 2 - inner.height // 2
        if band > 0:
            top = inner.resize((width, band), box=(0, 0, width, 0))
            bottom = inner.resize((width, band), box=(0, inner.height, width, inner.height))
            result.paste(top, (0, 0))
            result.paste(bottom, (0, band + inner.height))
    elif target_ratio > source_ratio:
        band = width // 2 - inner.width // 2
        if band > 0:
            left = inner.resize((band, height), box=(0, 0, 0, height))
            right = inner.resize((band, height), box=(inner.width, 0, inner.width, height))
            result.paste(left, (0, 0))
            result.paste(right, (band + inner.width, 0))
