"""Deterministic test pictures: gradients, shapes and noise, so resize and mask code sees real image content."""
from __future__ import annotations

import random

from PIL import Image, ImageDraw


def picture(width: int, height: int, seed: int = 0) -> Image.Image:
    """An RGB picture with smooth gradients, hard-edged shapes and a little noise."""
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.linear_gradient("L").rotate(90).resize((width, height))
    blue = Image.radial_gradient("L").resize((width, height))
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    rng = random.Random(seed)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randrange(4, max(5, min(width, height) // 3))
        draw.ellipse((x, y, x + size, y + size), fill=tuple(rng.randrange(256) for _ in range(3)))
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    return Image.blend(image, noise, 0.1)


def noise_image(width: int, height: int, seed: int = 1) -> Image.Image:
    """Pure RGB noise, standing in for whatever the model generates."""
    return Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))


def box_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """An L mask, white (masked) inside `box`."""
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return mask
