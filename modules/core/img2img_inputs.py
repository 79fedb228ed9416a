"""The image side of img2img and inpainting: init images, masks and overlays ready for the diffusion code.

`prepare_img2img` does what A1111's ``StableDiffusionProcessingImg2Img.init`` does with pictures (mask
binarisation, invert, blur, "only masked" crop, resize, masked-content pre-fill); `apply_overlay` pastes a
generated image back so pixels outside the (blurred) mask are the original's, bit for bit. Encoding to
latents, latent noise/nothing and inpainting-model conditioning are the caller's job.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from PIL import Image, ImageOps

from modules.core.errors import InvalidRequest
from modules.core.masking import Box, binary_mask, blur_mask, crop_region, expand_to_aspect, fill_masked
from modules.core.params import Img2ImgRequest
from modules.core.resize_modes import (LATENT_SCALE, ResizeMode, Upscaler, flatten, resize_image, resize_mode)

BLANK_MASK_MESSAGE = 'Unable to perform "Inpaint Only mask" because mask is blank, switch to img2img mode.'


class MaskedContent(IntEnum):
    """Values of ``inpainting_fill``: what the masked area starts from."""

    FILL = 0
    ORIGINAL = 1
    LATENT_NOISE = 2
    LATENT_NOTHING = 3

    @property
    def label(self) -> str:
        """The UI / infotext label, e.g. ``latent noise``."""
        return ("fill", "original", "latent noise", "latent nothing")[self]

    @property
    def prefills_image(self) -> bool:
        """True when the init image's masked area is painted with blurred surroundings before encoding.

        A1111 does this for every mode but "original"; for the latent modes the caller then also replaces
        the masked latent with seed noise (latent noise) or zeros (latent nothing).
        """
        return self is not MaskedContent.ORIGINAL


@dataclass(frozen=True)
class PreparedImg2Img:
    """Everything the diffusion side needs from the pictures of one img2img/inpaint request.

    `images`: RGB init images (one per request image; a single one serves the whole batch) at the processing
    size W x H, or at their own size when `latent_size` is set (resize mode 3: encode, then resize the latent
    bilinearly to `latent_size` = (W // 8, H // 8), width first). `mask`: the blurred mask at W x H (255 =
    regenerate) for inpainting-model conditioning; round it when the request's `mask_round` is on. `latent_mask`:
    where the latent is regenerated, at W x H (see `masking.latent_mask_for`). `overlays`: per image, the
    original with alpha = 255 - overlay mask, for `apply_overlay`. `paste_box`: (x, y, w, h) of the "only
    masked" region in the original, else None. `masked_content`: None without a mask.
    """

    images: tuple[Image.Image, ...]
    mask: Image.Image | None = None
    latent_mask: Image.Image | None = None
    overlays: tuple[Image.Image | None, ...] = ()
    paste_box: tuple[int, int, int, int] | None = None
    masked_content: MaskedContent | None = None
    latent_size: tuple[int, int] | None = None
    infotext: tuple[tuple[str, object], ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _MaskPlan:
    """The request mask turned into processing-size masks (or nothing, for img2img or a blank "only masked")."""

    mask: Image.Image | None = None
    overlay_mask: Image.Image | None = None
    region: Box | None = None
    warnings: tuple[str, ...] = ()


def prepare_img2img(request: Img2ImgRequest, *, upscaler: Upscaler | None = None,
                    background: str = "#ffffff") -> PreparedImg2Img:
    """Return the init images, masks and overlays of a (validated) request, as A1111 prepares them.

    `upscaler` enlarges images beyond their size (A1111's `upscaler_for_img2img`); `background` is the colour
    transparent init pixels are flattened onto (`img2img_background_color`).
    """
    if not request.init_images:
        raise InvalidRequest("img2img needs at least one init image")
    mode = resize_mode(request.resize_mode)
    plan = _plan_mask(request, mode)
    latent_mask = plan.mask if request.latent_mask is None or plan.mask is None else request.latent_mask.convert("L")
    content = MaskedContent(request.inpainting_fill) if plan.mask is not None else None
    images, overlays = [], []
    for source in request.init_images:
        image = flatten(source, background)
        if plan.region is None and mode is not ResizeMode.LATENT_UPSCALE:
            image = resize_image(image, request.width, request.height, mode, upscaler=upscaler)
        overlays.append(_overlay(image, plan, request) if plan.mask is not None else None)
        if plan.region is not None:
            image = resize_image(image.crop(plan.region), request.width, request.height, ResizeMode.RESIZE_AND_FILL,
                                 upscaler=upscaler)
        if content is not None and content.prefills_image:
            image = fill_masked(image, _sized(latent_mask, image.size))
        images.append(image)
    box = plan.region
    return PreparedImg2Img(
        images=tuple(images), mask=plan.mask, latent_mask=latent_mask, overlays=tuple(overlays),
        paste_box=None if box is None else (box[0], box[1], box[2] - box[0], box[3] - box[1]),
        masked_content=content,
        latent_size=(request.width // LATENT_SCALE, request.height // LATENT_SCALE)
        if mode is ResizeMode.LATENT_UPSCALE and box is None else None,  # "only masked" images are W x H already
        infotext=img2img_infotext(request, has_mask=plan.mask is not None), warnings=plan.warnings)


def _plan_mask(request: Img2ImgRequest, mode: ResizeMode) -> _MaskPlan:
    """Binarise, invert and blur the request mask, then crop ("only masked") or resize it to W x H."""
    if request.mask is None:
        return _MaskPlan()
    mask = binary_mask(request.mask, round_alpha=request.mask_round)
    if request.inpainting_mask_invert:
        mask = ImageOps.invert(mask)
    mask = blur_mask(mask, *request.mask_blur_xy)
    width, height = request.width, request.height
    if request.inpaint_full_res:
        region = crop_region(mask, request.inpaint_full_res_padding)
        if region is None:
            return _MaskPlan(warnings=(BLANK_MASK_MESSAGE,))
        region = expand_to_aspect(region, width, height, mask.size)
        cropped = resize_image(mask.crop(region), width, height, ResizeMode.RESIZE_AND_FILL).convert("L")
        return _MaskPlan(mask=cropped, overlay_mask=mask, region=region)
    # mode 3 stretches the latent, so the mask is stretched too (A1111 would "fill" it and misalign)
    mask_mode = ResizeMode.JUST_RESIZE if mode is ResizeMode.LATENT_UPSCALE else mode
    sized = resize_image(mask, width, height, mask_mode).convert("L")
    # the overlay mask is doubled so the original shows through only where the blur is weak (A1111)
    return _MaskPlan(mask=sized, overlay_mask=sized.point(lambda v: min(255, 2 * v)))


def _overlay(image: Image.Image, plan: _MaskPlan, request: Img2ImgRequest) -> Image.Image:
    """The original as RGBA whose alpha is the inverted overlay mask (opaque where nothing is regenerated).

    A1111 round-trips this through premultiplied RGBa, which loses colour precision in the soft edge; the exact
    colours are kept here. In mode 3 the overlay is the init image stretched to W x H, matching the output.
    """
    if plan.region is None and image.size != (request.width, request.height):
        image = resize_image(image, request.width, request.height, ResizeMode.JUST_RESIZE)
    overlay = image.convert("RGBA")
    overlay.putalpha(ImageOps.invert(_sized(plan.overlay_mask, image.size)))
    return overlay


def _sized(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The mask stretched to `size` (only needed when a caller's latent mask or mode 3 sizes differ)."""
    return mask if mask.size == size else mask.resize(size, resample=Image.Resampling.LANCZOS)


def apply_overlay(image: Image.Image, prepared: PreparedImg2Img, index: int = 0) -> Image.Image:
    """Paste a generated image back: "only masked" output goes into its box; the original covers the rest.

    Pixels where the overlay is opaque (outside the blurred mask) are exactly the original's. Without a mask
    the image is returned unchanged. `index` picks the overlay of the init image the output came from.
    """
    if not prepared.overlays:
        return image
    overlay = prepared.overlays[min(index, len(prepared.overlays) - 1)]
    if overlay is None:
        return image
    if prepared.paste_box is not None:
        x, y, w, h = prepared.paste_box
        canvas = Image.new("RGBA", overlay.size)
        canvas.paste(resize_image(image, w, h, ResizeMode.CROP_AND_RESIZE), (x, y))
    else:
        canvas = image.convert("RGBA")
        if canvas.size != overlay.size:
            raise InvalidRequest(f"generated image is {image.width}x{image.height}, expected "
                                 f"{overlay.width}x{overlay.height}")
    canvas.alpha_composite(overlay)
    return canvas.convert("RGB")


def img2img_infotext(request: Img2ImgRequest, *, has_mask: bool) -> tuple[tuple[str, object], ...]:
    """Return the inpaint keys A1111 adds to the infotext, in its order (`Denoising strength` is a fixed key).

    The UI writes `Mask blur` for every masked job (before `Mask mode`); the API only when the blur is non-zero
    (after `Mask mode`). Unequal x/y blurs
    write no `Mask blur` (A1111 has no single value for them). `Noise multiplier` appears when it is not 1.
    """
    fields: list[tuple[str, object]] = []
    blur_x, blur_y = request.mask_blur_xy
    if has_mask:
        if request.source == "ui" or blur_x > 0 or blur_y > 0:
            fields.append(("Mask blur", blur_x if blur_x == blur_y else None))
        if request.inpainting_mask_invert:
            # the API sets the mode before the blur; the UI has written the blur first
            fields.insert(0 if request.source != "ui" else len(fields), ("Mask mode", "Inpaint not masked"))
        if request.inpaint_full_res:
            fields += [("Inpaint area", "Only masked"), ("Masked area padding", request.inpaint_full_res_padding)]
        content = MaskedContent(request.inpainting_fill)
        if content is not MaskedContent.ORIGINAL:
            fields.append(("Masked content", content.label))
    multiplier = request.initial_noise_multiplier
    if multiplier is not None and multiplier != 1.0:
        fields.append(("Noise multiplier", multiplier))
    return tuple(field for field in fields if field[1] is not None)
