"""A1111's two outpainting scripts as registry entries (the API's ``script_name``); the img2img tab sets the same
``Img2ImgRequest.outpaint`` from its own controls."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ..errors import InvalidRequest
from ..outpaint import DIRECTIONS, poor_mans_margins
from ..params import GenerationRequest, Img2ImgRequest, Outpaint
from ..results import GenerationResult
from .base import Script, ScriptArg, ScriptServices

_MASKED_CONTENT = ("fill", "original", "latent noise", "latent nothing")
_DIRECTIONS = ScriptArg("direction", "Outpainting direction", "checkboxgroup", list(DIRECTIONS),
                        choices=DIRECTIONS)
POOR_ARGS = (ScriptArg("pixels", "Pixels to expand", "slider", 128, minimum=8, maximum=256, step=8),
             ScriptArg("mask_blur", "Mask blur", "slider", 4, minimum=0, maximum=64, step=1),
             ScriptArg("inpainting_fill", "Masked content", "radio", "fill", choices=_MASKED_CONTENT),
             _DIRECTIONS)
MK2_ARGS = (ScriptArg("info", "Recommended settings", "textbox", "", ui=False),
            ScriptArg("pixels", "Pixels to expand", "slider", 128, minimum=8, maximum=256, step=8),
            ScriptArg("mask_blur", "Mask blur", "slider", 8, minimum=0, maximum=64, step=1),
            _DIRECTIONS,
            ScriptArg("noise_q", "Fall-off exponent (lower=higher detail)", "slider", 1.0, minimum=0.0, maximum=4.0,
                      step=0.01),
            ScriptArg("color_variation", "Color variation", "slider", 0.05, minimum=0.0, maximum=1.0, step=0.01))


def _image_and_directions(request: GenerationRequest, args: Mapping[str, Any]):
    if not isinstance(request, Img2ImgRequest) or not request.init_images:
        raise InvalidRequest("Outpainting needs an init image")
    directions = tuple(d for d in DIRECTIONS if d in (args["direction"] or ()))
    if not directions:
        raise InvalidRequest("Choose at least one outpainting direction")
    return request.init_images[0], directions


def _fill_index(value: Any) -> int:
    text = str(value).strip().lower()
    if text.isdigit() and int(text) < len(_MASKED_CONTENT):
        return int(text)
    if text not in _MASKED_CONTENT:
        raise InvalidRequest(f"Masked content: {value!r} is not one of {', '.join(_MASKED_CONTENT)}")
    return _MASKED_CONTENT.index(text)


def _poor(services: ScriptServices, request: GenerationRequest, args: Mapping[str, Any]) -> GenerationResult:
    image, directions = _image_and_directions(request, args)
    spec = dataclasses.replace(poor_mans_margins(image.size, int(args["pixels"]), directions),
                               mask_blur=int(args["mask_blur"]))
    return services.generate(dataclasses.replace(request, outpaint=spec,
                                                 inpainting_fill=_fill_index(args["inpainting_fill"])))


def _mk2(services: ScriptServices, request: GenerationRequest, args: Mapping[str, Any]) -> GenerationResult:
    _image, directions = _image_and_directions(request, args)
    sides = {d: int(args["pixels"]) if d in directions else 0 for d in DIRECTIONS}
    spec = Outpaint(**sides, mask_blur=int(args["mask_blur"]), noise_fill=True,
                    color_variation=float(args["color_variation"]))
    return services.generate(dataclasses.replace(request, outpaint=spec))


POOR_MANS_OUTPAINTING = Script(title="Poor man's outpainting", tabs=("img2img",), args=POOR_ARGS, run=_poor)
OUTPAINTING_MK2 = Script(title="Outpainting mk2", tabs=("img2img",), args=MK2_ARGS, run=_mk2)
