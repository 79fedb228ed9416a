"""Inpainting masks as A1111 makes them: binary masks, editor layers, sketch masks, blur, crop region, fill.

Masks are Pillow "L" images: 255 = regenerate this pixel, 0 = keep it. How the img2img tabs map here, with a
Gradio ImageEditor value ``{"background", "layers", "composite"}``: *Sketch* uses the composite as the init
image and no mask; *Inpaint* uses the background with ``mask_from_layers(layers)``; *Inpaint sketch* uses
``inpaint_sketch(composite, background, ...)``; *Inpaint upload* sends its mask through ``binary_mask``
(`img2img_inputs.prepare_img2img` does that for every request mask, as A1111's processing does).
"""
from __future__ import annotations

import math
from typing import Sequence

from PIL import Image, ImageChops, ImageEnhance, ImageFilter, ImageMath, ImageOps

from modules.core.errors import InvalidRequest

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right/bottom exclusive, as Pillow's ``crop``."""

# A1111's masked-content "fill": blurred copies of the unmasked image, coarse to fine, stacked on each other
# so every masked pixel ends up with the colour of its nearest surroundings.
_FILL_PASSES: tuple[tuple[int, int], ...] = ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1))


def binary_mask(mask: Image.Image, *, round_alpha: bool = True) -> Image.Image:
    """Return an uploaded mask as L, as A1111's ``create_binary_mask``.

    An RGBA mask with some transparency is its alpha channel (thresholded at > 128 when `round_alpha`);
    any other mask is converted to grey, so white is masked, black kept and grey partly masked.

    >>> painted = Image.new("RGBA", (2, 1), (0, 0, 0, 0)); painted.putpixel((1, 0), (255, 255, 255, 200))
    >>> list(binary_mask(painted).getdata()), list(binary_mask(painted, round_alpha=False).getdata())
    ([0, 255], [0, 200])
    """
    if mask.mode == "RGBA" and mask.getextrema()[-1] != (255, 255):
        alpha = mask.getchannel("A")
        return alpha.point(lambda v: 255 if v > 128 else 0) if round_alpha else alpha
    return mask.convert("L")


def mask_from_layers(layers: Sequence[Image.Image | None], size: tuple[int, int], *,
                     round_alpha: bool = True) -> Image.Image:
    """Return the mask painted in an image editor: the union of the layers' alpha channels (Gradio ImageEditor).

    Layers of another size than `size` are refused: the editor always returns canvas-sized layers.
    """
    mask = Image.new("L", size, 0)
    for layer in layers:
        if layer is None:
            continue
        if layer.size != size:
            raise InvalidRequest(f"mask layer is {layer.width}x{layer.height}, the image is {size[0]}x{size[1]}")
        mask = ImageChops.lighter(mask, layer.convert("RGBA").getchannel("A"))
    return mask.point(lambda v: 255 if v > 128 else 0) if round_alpha else mask


def inpaint_sketch(sketch: Image.Image, original: Image.Image | None, *, transparency: float,
                   blur: int) -> tuple[Image.Image, Image.Image]:
    """Return (init image, mask) of A1111's "Inpaint sketch" tab.

    The mask is every pixel where the sketch differs from the original, scaled by ``1 - transparency / 100``
    ("Mask transparency", 0-100); the init image is the original with the blurred sketch blended in by the
    blurred mask. Without an original nothing differs, so the mask is empty.
    """
    sketch = sketch.convert("RGB")
    original = sketch if original is None else original.convert("RGB")
    if original.size != sketch.size:
        raise InvalidRequest(f"sketch is {sketch.width}x{sketch.height} but the original image is "
                             f"{original.width}x{original.height}")
    if not 0 <= transparency <= 100:
        raise InvalidRequest(f"mask transparency must be between 0 and 100, got {transparency}")
    red, green, blue = ImageChops.difference(sketch, original).split()
    changed = ImageChops.lighter(ImageChops.lighter(red, green), blue).point(lambda v: 255 if v else 0)
    mask = ImageEnhance.Brightness(changed).enhance(1 - transparency / 100)
    soft = ImageFilter.GaussianBlur(blur)
    image = Image.composite(sketch.filter(soft), original, mask.filter(soft))
    return image, mask


def gaussian_kernel(sigma: int) -> tuple[float, ...]:
    """Return the normalised 1-D kernel A1111 blurs masks with: size ``2 * int(2.5 * sigma + 0.5) + 1``.

    >>> kernel = gaussian_kernel(4); len(kernel), round(sum(kernel), 6), kernel[10] == max(kernel)
    (21, 1.0, True)
    """
    if sigma <= 0:
        return (1.0,)
    half = int(2.5 * sigma + 0.5)
    weights = [math.exp(-((i - half) ** 2) / (2.0 * sigma * sigma)) for i in range(2 * half + 1)]
    total = sum(weights)
    return tuple(w / total for w in weights)


def blur_mask(mask: Image.Image, blur_x: int, blur_y: int) -> Image.Image:
    """Blur an L mask horizontally then vertically, as A1111's two OpenCV ``GaussianBlur`` calls.

    Same kernels, mirrored borders (OpenCV's default, edge pixel not repeated) and 8-bit rounding after each
    pass; results may differ from OpenCV's fixed-point arithmetic by one grey level. A pixel farther than the
    kernel radius ``int(2.5 * sigma + 0.5)`` from every masked pixel stays exactly 0.
    """
    mask = mask.convert("L")
    if blur_x > 0:
        mask = _blur_rows(mask, gaussian_kernel(blur_x))
    if blur_y > 0:
        flipped = _blur_rows(mask.transpose(Image.Transpose.TRANSPOSE), gaussian_kernel(blur_y))
        mask = flipped.transpose(Image.Transpose.TRANSPOSE)
    return mask


def _blur_rows(mask: Image.Image, kernel: tuple[float, ...]) -> Image.Image:
    """Convolve each row with `kernel`, computing only the part the mask's bounding box can reach.

    Rows without a masked pixel and columns beyond the kernel's reach stay 0, so they are skipped: the work
    follows the size of the masked area, not of the picture.
    """
    box = mask.getbbox()
    if box is None:
        return mask.copy()
    half = len(kernel) // 2
    start, stop = max(box[0] - half, 0), min(box[2] + half, mask.width)
    band = mask.crop((0, box[1], mask.width, box[3]))
    result = Image.new("L", mask.size, 0)
    result.paste(_convolve_rows(band, kernel, start, stop), (start, box[1]))
    return result


def _convolve_rows(image: Image.Image, kernel: tuple[float, ...], start: int, stop: int) -> Image.Image:
    """Return columns [start, stop) of the rows convolved with `kernel` (float "F" arithmetic, rounded to L)."""
    half = len(kernel) // 2
    width, height = image.size
    low, high = start - half, stop + half  # source columns needed, possibly beyond the edges
    padded = Image.new("F", (high - low, height))
    inside_low, inside_high = max(low, 0), min(high, width)
    padded.paste(image.crop((inside_low, 0, inside_high, height)).convert("F"), (inside_low - low, 0))
    for column in (*range(low, inside_low), *range(inside_high, high)):
        source = _mirror(column, width)
        padded.paste(image.crop((source, 0, source + 1, height)).convert("F"), (column - low, 0))
    total = Image.new("F", (stop - start, height), 0.5)  # +0.5: the conversion to L then rounds to nearest
    for index, weight in enumerate(kernel):
        if weight < 1e-12:  # far tails of wide kernels change nothing at 8 bits
            continue
        window = padded.crop((index, 0, index + stop - start, height))
        total = ImageMath.lambda_eval(lambda a, w=weight: a["t"] + a["s"] * w, t=total, s=window)
    return total.convert("L")


def _mirror(index: int, size: int) -> int:
    """OpenCV's BORDER_REFLECT_101 index: ...2 1 | 0 1 2 ... size-1 | size-2 ..., repeated as needed.

    >>> [_mirror(i, 4) for i in (-3, -1, 4, 6, 9)]
    [3, 1, 2, 0, 3]
    """
    if size == 1:
        return 0
    period = 2 * size - 2
    index %= period
    return index if index < size else period - index


def crop_region(mask: Image.Image, padding: int) -> Box | None:
    """Return the box around every non-zero mask pixel grown by `padding` and clamped, or None for an empty mask.

    >>> m = Image.new("L", (64, 64)); m.paste(255, (20, 30, 28, 34)); crop_region(m, 4), crop_region(m, 40)
    ((16, 26, 32, 38), (0, 0, 64, 64))
    """
    box = mask.convert("L").getbbox()
    if box is None:
        return None
    left, top, right, bottom = box
    return (max(left - padding, 0), max(top - padding, 0), min(right + padding, mask.width),
            min(bottom + padding, mask.height))


def expand_to_aspect(box: Box, width: int, height: int, image_size: tuple[int, int]) -> Box:
    """Grow `box` around its centre to the width:height ratio, shifted inside the image and clamped to it.

    A1111's ``expand_crop_region``: a 128x32 box for 512x512 becomes 128x128; when the image is too small for
    the ratio the box is clamped and "Resize and fill" covers the difference later.

    >>> expand_to_aspect((100, 100, 228, 132), 512, 512, (512, 512))
    (100, 52, 228, 180)
    >>> expand_to_aspect((0, 0, 40, 10), 64, 64, (64, 64))
    (0, 0, 40, 40)
    """
    left, top, right, bottom = box
    if (right - left) / (bottom - top) > width / height:
        top, bottom = _grow_span(top, bottom, int((right - left) * height / width - (bottom - top)), image_size[1])
    else:
        left, right = _grow_span(left, right, int((bottom - top) * width / height - (right - left)), image_size[0])
    return left, top, right, bottom


def _grow_span(start: int, end: int, extra: int, limit: int) -> tuple[int, int]:
    """Add `extra` pixels around [start, end), keep it inside [0, limit) by shifting, then clamp."""
    start, end = start - extra // 2, end + extra - extra // 2
    if end > limit:
        start, end = start - (end - limit), limit
    if start < 0:
        start, end = 0, end - start
    return start, min(end, limit)


def fill_masked(image: Image.Image, mask: Image.Image) -> Image.Image:
    """Return `image` with the masked area painted in blurred colours of its surroundings (masked content "fill").

    Unmasked pixels (mask 0) keep their exact colour.
    """
    keep = ImageOps.invert(mask.convert("L"))
    known = Image.new("RGBa", image.size)
    known.paste(image.convert("RGBA").convert("RGBa"), mask=keep)
    result = Image.new("RGBA", image.size)
    for radius, repeats in _FILL_PASSES:
        layer = known.filter(ImageFilter.GaussianBlur(radius)).convert("RGBA") if radius else known.convert("RGBA")
        for _ in range(repeats):
            result.alpha_composite(layer)
    return result.convert("RGB")


def latent_mask_for(mask: Image.Image, size: tuple[int, int], *, round_values: bool = True) -> Image.Image:
    """Return the mask at latent size (bicubic, as A1111), 0/255 when `round_values` (``mask_round``).

    255 = this latent pixel is generated, 0 = it comes from the init latent.

    >>> m = Image.new("L", (64, 64)); m.paste(255, (0, 0, 32, 64)); latent_mask_for(m, (8, 8)).getpixel((3, 0))
    255
    """
    small = mask.convert("L").resize(size, resample=Image.Resampling.BICUBIC)
    return small.point(lambda v: 255 if v >= 128 else 0) if round_values else small
