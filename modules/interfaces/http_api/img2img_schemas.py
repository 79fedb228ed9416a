"""``POST /sdapi/v1/img2img``: A1111's body (API defaults), base64 images in, and its outpainting scripts
("Poor man's outpainting", "Outpainting mk2") given as ``script_name`` + ``script_args``."""
from __future__ import annotations

from typing import Any


from modules.core.errors import InvalidRequest
from modules.core.image_input import decode_base64_image
from modules.core.outpaint import DIRECTIONS, Outpaint, poor_mans_margins
from modules.core.params import Img2ImgRequest

from .schemas import GenerationBody

decode_image = decode_base64_image  # the name the img2img and png-info routes use


class Img2ImgBody(GenerationBody):
    """``POST /sdapi/v1/img2img``: a ``mask`` makes it inpainting; fields and defaults as A1111's API."""

    init_images: list[str] | None = None
    resize_mode: int | None = 0
    denoising_strength: float | None = 0.75
    image_cfg_scale: float | None = None
    mask: str | None = None
    mask_blur_x: int | None = 4
    mask_blur_y: int | None = 4
    mask_blur: int | None = None
    mask_round: bool | None = True
    inpainting_fill: int | None = 0
    inpaint_full_res: bool | None = True
    inpaint_full_res_padding: int | None = 0
    inpainting_mask_invert: int | None = 0
    initial_noise_multiplier: float | None = None
    latent_mask: str | None = None
    include_init_images: bool | None = False

    def to_core(self) -> Img2ImgRequest:
        """The core request: images decoded, nulls replaced by defaults, an outpainting script applied."""
        v = self.values()
        if not self.init_images:
            raise InvalidRequest("init_images: at least one base64 image is required")
        images = tuple(decode_image(data, f"init_images[{i}]") for i, data in enumerate(self.init_images))
        request = Img2ImgRequest(
            **self.common_fields(), init_images=images,
            mask=decode_image(self.mask, "mask") if self.mask else None,
            latent_mask=decode_image(self.latent_mask, "latent_mask") if self.latent_mask else None,
            **{name: v[name] for name in (
                "resize_mode", "denoising_strength", "mask_blur_x", "mask_blur_y", "mask_round", "inpainting_fill",
                "inpaint_full_res", "inpaint_full_res_padding", "inpainting_mask_invert", "include_init_images")},
            image_cfg_scale=self.image_cfg_scale, mask_blur=self.mask_blur,
            initial_noise_multiplier=self.initial_noise_multiplier)
        return _with_script(request, self.script_name, list(self.script_args or []))

    def echo(self) -> dict[str, Any]:
        """The ``parameters`` echo: known fields; init images only with ``include_init_images`` (A1111)."""
        data = self.model_dump()
        if not self.include_init_images:
            data["init_images"] = None
            data["mask"] = None
        return data


def _with_script(request: Img2ImgRequest, name: str | None, args: list[Any]) -> Img2ImgRequest:
    """Apply A1111's outpainting scripts by title (case-insensitive); other scripts are refused."""
    if not name:
        return request
    title = name.strip().lower()
    try:
        if title == "poor man's outpainting":
            pixels, blur, fill, directions = (args + [128, 4, 0, list(DIRECTIONS)][len(args):])[:4]
            margins = poor_mans_margins(request.init_images[0].size, int(pixels), tuple(directions))
            spec = Outpaint(left=margins.left, right=margins.right, up=margins.up, down=margins.down,
                            mask_blur=int(blur))
            request = Img2ImgRequest(**{**_fields(request), "inpainting_fill": int(fill)})
        elif title == "outpainting mk2":
            _, pixels, blur, directions, _, variation = (args + [None, 128, 8, list(DIRECTIONS), 1.0, 0.05]
                                                         [len(args):])[:6]
            spec = Outpaint(**{d: int(pixels) for d in directions}, mask_blur=int(blur), noise_fill=True,
                            color_variation=float(variation))
        else:
            return request  # another script: the route runs it (see generation_routes)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"script_args for {name}: {exc}") from exc
    return Img2ImgRequest(**{**_fields(request), "outpaint": spec})


def _fields(request: Img2ImgRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.__dataclass_fields__}
