"""Outpainting as one inpaint pass over an enlarged canvas (A1111's "Poor man's outpainting" and "Outpainting mk2").

`plan_outpaint` grows the canvas by exactly the requested pixels per side, pastes the original, and returns
the mask of the new area (reaching a little into the original so the seam is regenerated), a latent mask and
the inpaint settings the scripts use. `OutpaintPlan.apply_to` turns an img2img request into that inpaint job;
after `img2img_inputs.apply_overlay` every pixel in `preserved_box` is the original's.

How this maps to A1111:
- Poor man's outpainting enlarges the canvas to a multiple of 64 (`poor_mans_margins` reproduces how it shares
  the extra pixels between sides), masks the new area plus ``2 * blur`` pixels of the original, blurs the mask
  by ``2 * blur``, uses a latent mask inset by ``blur // 2`` and inpaints tile by tile at W x H. Here the whole
  canvas is one tile: width x height = canvas size.
- Outpainting mk2 goes one direction at a time, pre-fills the new area with noise matched in the frequency
  domain to the image, masks ``blur`` pixels into the original, blurs by ``4 * blur``, uses a latent mask inset
  by ``2 * blur`` and masked content "original". With ``noise_fill`` we do all directions in one pass and
  approximate the matched noise by the blurred surroundings (masked content "fill") plus deterministic noise
  whose colourfulness is `color_variation`; no FFT is done.
"""
from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops

from modules.core.errors import InvalidRequest
from modules.core.masking import Box, fill_masked, gaussian_kernel
from modules.core.params import Img2ImgRequest, Outpaint
from modules.core.resize_modes import flatten

DIRECTIONS = ("left", "right", "up", "down")
_NOISE_SEED = 0  # mk2 draws its noise from a fixed seed too: the same request gives the same canvas
_NOISE_STRENGTH = 0.25


@dataclass(frozen=True)
class OutpaintPlan:
    """The enlarged canvas, its masks and inpaint settings; boxes are (left, top, right, bottom)."""

    init_image: Image.Image
    mask: Image.Image
    latent_mask: Image.Image
    mask_blur: int
    inpainting_fill: int
    original_box: Box
    preserved_box: Box

    def apply_to(self, request: Img2ImgRequest) -> Img2ImgRequest:
        """Return `request` as the whole-picture inpaint job of this plan (size = canvas size)."""
        return dataclasses.replace(
            request, init_images=(self.init_image,), mask=self.mask, latent_mask=self.latent_mask,
            mask_blur=self.mask_blur, inpainting_fill=self.inpainting_fill, inpaint_full_res=False,
            inpainting_mask_invert=0, resize_mode=0, width=self.init_image.width, height=self.init_image.height)


def poor_mans_margins(size: tuple[int, int], pixels: int, directions: tuple[str, ...],
                      multiple: int = 64) -> Outpaint:
    """Return the margins A1111's Poor man's outpainting really adds: the canvas grows to a multiple of 64.

    The grown width is shared between left and right in proportion to the requested pixels (left rounded
    down), and likewise for up and down.

    >>> m = poor_mans_margins((501, 512), 100, ("left", "right")); (m.left, m.right, m.up, m.down)
    (101, 102, 0, 0)
    """
    unknown = sorted(set(directions) - set(DIRECTIONS))
    if unknown:
        raise InvalidRequest(f"unknown outpainting direction(s) {unknown}; use {', '.join(DIRECTIONS)}")
    want = {name: pixels if name in directions else 0 for name in DIRECTIONS}
    width, height = size
    left, right = _share(width, want["left"], want["right"], multiple)
    up, down = _share(height, want["up"], want["down"], multiple)
    return Outpaint(left=left, right=right, up=up, down=down)


def _share(side: int, first: int, second: int, multiple: int) -> tuple[int, int]:
    grown = math.ceil((side + first + second) / multiple) * multiple - side
    if first and second:
        first = first * grown // (first + second)
        return first, grown - first
    return (grown, 0) if first else (0, grown if second else 0)


def plan_outpaint(image: Image.Image, spec: Outpaint, *, background: str = "#ffffff") -> OutpaintPlan:
    """Return the canvas of `image` grown by the margins of `spec`, with masks and inpaint settings.

    The new area starts black (Poor man's; masked content "fill" then paints it) or noise-filled (mk2 style).
    """
    margins = (spec.left, spec.right, spec.up, spec.down)
    if min(margins) < 0 or not any(margins):
        raise InvalidRequest(f"outpainting needs pixels >= 0 on at least one side, got {margins}")
    if not 0 <= spec.mask_blur <= 64:
        raise InvalidRequest(f"outpainting mask blur must be between 0 and 64, got {spec.mask_blur}")
    original = flatten(image, background)
    width, height = original.width + spec.left + spec.right, original.height + spec.up + spec.down
    box = (spec.left, spec.up, spec.left + original.width, spec.up + original.height)
    canvas = Image.new("RGB", (width, height))
    canvas.paste(original, box[:2])
    overlap, latent_inset, blur = ((spec.mask_blur, 2 * spec.mask_blur, 4 * spec.mask_blur) if spec.noise_fill
                                   else (2 * spec.mask_blur, spec.mask_blur // 2, 2 * spec.mask_blur))
    mask = _mask_outside(canvas.size, _inset(box, spec, overlap))
    if spec.noise_fill:
        canvas = _noise_filled(canvas, _mask_outside(canvas.size, box), spec.color_variation)
    reach = overlap + len(gaussian_kernel(blur)) // 2  # the blurred mask is exactly 0 beyond this
    return OutpaintPlan(init_image=canvas, mask=mask, latent_mask=_mask_outside(canvas.size, _inset(box, spec,
                                                                                                   latent_inset)),
                        mask_blur=blur, inpainting_fill=1 if spec.noise_fill else 0, original_box=box,
                        preserved_box=_inset(box, spec, reach))


def _inset(box: Box, spec: Outpaint, pixels: int) -> Box:
    """Shrink `box` by `pixels` on each side that grows (the seam sides), never past its own centre."""
    left, top, right, bottom = box
    mid_x, mid_y = (left + right) // 2, (top + bottom) // 2
    return (min(left + pixels, mid_x) if spec.left else left, min(top + pixels, mid_y) if spec.up else top,
            max(right - pixels, mid_x) if spec.right else right, max(bottom - pixels, mid_y) if spec.down else bottom)


def _mask_outside(size: tuple[int, int], keep: Box) -> Image.Image:
    """White everywhere but `keep` (A1111 draws an inclusive rectangle, one pixel wider; this one is exact)."""
    mask = Image.new("L", size, 255)
    mask.paste(0, keep)
    return mask


def _noise_filled(canvas: Image.Image, new_area: Image.Image, color_variation: float) -> Image.Image:
    """Paint the new area with surrounding colours plus fixed-seed noise (approximates mk2's matched noise)."""
    if not 0 <= color_variation <= 1:
        raise InvalidRequest(f"colour variation must be between 0 and 1, got {color_variation}")
    rng = random.Random(_NOISE_SEED)
    count = canvas.width * canvas.height
    grey = Image.frombytes("L", canvas.size, rng.randbytes(count)).convert("RGB")
    colour = Image.frombytes("RGB", canvas.size, rng.randbytes(3 * count))
    noise = Image.blend(grey, colour, color_variation).point(lambda v: round(128 + (v - 128) * _NOISE_STRENGTH))
    filled = fill_masked(canvas, new_area)
    noisy = ImageChops.add(filled, noise, scale=1.0, offset=-128)
    return Image.composite(noisy, canvas, new_area)
