"""img2img tab values → ``Img2ImgRequest``: the sub-tab decides the init image and mask, the rest is shared."""
from __future__ import annotations

import dataclasses

from PIL import Image

from modules.core.errors import InvalidRequest
from modules.core.masking import inpaint_sketch, mask_from_layers
from modules.core.outpaint import DIRECTIONS, Outpaint, poor_mans_margins
from modules.core.params import Img2ImgRequest

from .img2img_layout import SCRIPTS
from .seed_controls import SEED_INPUTS, seed_fields

REQUEST_INPUTS = ("mode", "prompt", "negative_prompt", "styles", "sampler", "scheduler", "steps", "cfg_scale",
                  "denoising_strength", "n_iter", "batch_size", "resize_mode", "scale_mode", "width", "height",
                  "scale_by", "init_img", "sketch", "inpaint", "inpaint_sketch", "mask_alpha", "init_img_inpaint",
                  "mask_upload", "mask_blur", "inpainting_mask_invert", "inpainting_fill", "inpaint_full_res",
                  "inpaint_full_res_padding", "script", "outpaint_pixels", "outpaint_mask_blur",
                  "outpaint_directions", "outpaint_fill", "outpaint_falloff", "outpaint_color_variation",
                  "batch_input_dir", "batch_output_dir", "batch_mask_dir", "override_settings", *SEED_INPUTS)
"""Names of the components whose values the tab's Generate handler reads."""


def _number(value: float) -> float | int:
    """Whole slider values print as A1111's UI prints them (``CFG scale: 7``)."""
    return int(value) if float(value).is_integer() else float(value)


def _editor_background(value: dict | None, what: str) -> Image.Image:
    if not value or value.get("background") is None:
        raise InvalidRequest(f"Choose an image for {what} first")
    return value["background"]


def source_images(v: dict) -> tuple[Image.Image, Image.Image | None]:
    """(init image, mask or None) of the selected sub-tab (``v["mode"]``, one of ``img2img_layout.MODES`` but
    batch, whose images come from folders)."""
    mode = v["mode"]
    if mode == "img2img":
        if v["init_img"] is None:
            raise InvalidRequest("Choose an image for img2img first")
        return v["init_img"], None
    if mode == "sketch":
        _editor_background(v["sketch"], "the sketch")
        return v["sketch"]["composite"], None
    if mode == "inpaint":
        background = _editor_background(v["inpaint"], "inpainting")
        return background, mask_from_layers(v["inpaint"].get("layers") or (), background.size)
    if mode == "inpaint_sketch":
        original = _editor_background(v["inpaint_sketch"], "inpaint sketch")
        return inpaint_sketch(v["inpaint_sketch"]["composite"], original, transparency=float(v["mask_alpha"]),
                              blur=int(v["mask_blur"]))
    if mode == "inpaint_upload":
        if v["init_img_inpaint"] is None or v["mask_upload"] is None:
            raise InvalidRequest("Upload both an image and a mask for inpainting")
        return v["init_img_inpaint"], v["mask_upload"]
    raise InvalidRequest(f"Unknown img2img mode {mode!r}")


def target_size(v: dict, image: Image.Image | None) -> tuple[int, int]:
    """Width and height: the "Resize to" sliders, or with "Resize by" the image size times the scale, rounded
    down to a multiple of 8 as A1111 does."""
    if v["scale_mode"] != "by" or image is None:
        return int(v["width"]), int(v["height"])
    scale = float(v["scale_by"])
    width, height = int(image.width * scale), int(image.height * scale)
    return max(8, width - width % 8), max(8, height - height % 8)


def outpaint_spec(v: dict, image: Image.Image | None) -> Outpaint | None:
    """The ``Outpaint`` of the chosen script (None for "None"): the pixels on the ticked sides, Poor man's
    grown to a multiple of 64 as A1111 does, mk2 with the noise pre-fill."""
    script = v.get("script") or SCRIPTS[0]
    if script not in SCRIPTS[1:]:  # None, or a registry script (``script_controls``)
        return None
    directions = tuple(d for d in DIRECTIONS if d in (v["outpaint_directions"] or ()))
    if not directions:
        raise InvalidRequest("Choose at least one outpainting direction")
    if image is None:
        raise InvalidRequest("Choose an image to outpaint first")
    pixels, blur = int(v["outpaint_pixels"]), int(v["outpaint_mask_blur"])
    if script == SCRIPTS[1]:
        return dataclasses.replace(poor_mans_margins(image.size, pixels, directions), mask_blur=blur)
    sides = {d: pixels if d in directions else 0 for d in DIRECTIONS}
    return Outpaint(**sides, mask_blur=blur, noise_fill=True,
                    color_variation=float(v["outpaint_color_variation"]))


def inpaint_fields(v: dict) -> dict[str, object]:
    """The inpaint options (all sub-tabs send them; without a mask they are unused)."""
    return {"mask_blur": int(v["mask_blur"]), "inpainting_mask_invert": int(v["inpainting_mask_invert"]),
            "inpainting_fill": int(v["inpainting_fill"]), "inpaint_full_res": bool(v["inpaint_full_res"]),
            "inpaint_full_res_padding": int(v["inpaint_full_res_padding"])}


def base_request(v: dict, image: Image.Image | None = None) -> Img2ImgRequest:
    """The request without images: prompts, sampling, size (from ``image`` when resizing by a scale), seeds,
    inpaint options and the outpainting script."""
    width, height = target_size(v, image)
    outpaint = outpaint_spec(v, image)
    fields = inpaint_fields(v)
    if outpaint is not None:
        fields["inpainting_fill"] = int(v["outpaint_fill"])
    return Img2ImgRequest(
        prompt=v["prompt"] or "", negative_prompt=v["negative_prompt"] or "", styles=tuple(v.get("styles") or ()),
        steps=int(v["steps"]), sampler_name=v["sampler"], scheduler=v["scheduler"],
        cfg_scale=_number(v["cfg_scale"]), width=width, height=height, batch_size=int(v["batch_size"]),
        n_iter=int(v["n_iter"]), denoising_strength=_number(v["denoising_strength"]),
        resize_mode=int(v["resize_mode"]), outpaint=outpaint, source="ui",
        extension_args=v.get("extension_args") or {}, **fields, **seed_fields(v))


def build_request(v: dict) -> Img2ImgRequest:
    """The request of the selected (non-batch) sub-tab."""
    image, mask = source_images(v)
    return dataclasses.replace(base_request(v, image), init_images=(image,), mask=mask)
