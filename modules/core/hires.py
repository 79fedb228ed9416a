"""Hires fix as A1111 plans it: the target size (scale or resize-to with crop), the second pass's steps,
sampler and prompts, and the infotext keys it writes (in A1111's order)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PIL import Image

from .denoising import img2img_steps
from .errors import InvalidRequest
from .params import GenerationJob, HiresSpec, Txt2ImgRequest
from .samplers import effective_schedule, resolve_sampler
from .upscalers import find_latent_mode
from .validation import MAX_SIDE

LATENT_SCALE = 8
DEFAULT_LATENT_UPSCALER = "Latent"  # A1111 ``latent_upscale_default_mode``, used when hr_upscaler is null

ImageUpscale = Callable[[Image.Image, str, int, int], Image.Image]
"""``upscale(image, upscaler name, width, height)``: exactly that size (``PostprocessingService.upscale_to``)."""


@dataclass(frozen=True)
class HiresTarget:
    """Where the first pass is resized to (pixels), the centred crop afterwards (latent pixels), and the
    infotext field describing it (``Hires upscale`` or ``Hires resize``)."""

    upscale_to: tuple[int, int]
    truncate: tuple[int, int]
    field: tuple[str, object]


def hires_target(width: int, height: int, scale: float, resize_x: int, resize_y: int) -> HiresTarget:
    """A1111's ``calculate_target_resolution``: scale, or resize to a width and/or height (aspect kept when one
    is 0; with both, cover the box and crop the overflow from the latent).

    >>> hires_target(64, 64, 2.0, 0, 0)
    HiresTarget(upscale_to=(128, 128), truncate=(0, 0), field=('Hires upscale', 2.0))
    >>> hires_target(64, 32, 2.0, 96, 96)
    HiresTarget(upscale_to=(192, 96), truncate=(12, 0), field=('Hires resize', '96x96'))
    """
    if resize_x == 0 and resize_y == 0:
        return HiresTarget((int(width * scale), int(height * scale)), (0, 0), ("Hires upscale", scale))
    field = ("Hires resize", f"{resize_x}x{resize_y}")
    if resize_y == 0:
        return HiresTarget((resize_x, resize_x * height // width), (0, 0), field)
    if resize_x == 0:
        return HiresTarget((resize_y * width // height, resize_y), (0, 0), field)
    if width / height < resize_x / resize_y:
        to = (resize_x, resize_x * height // width)
    else:
        to = (resize_y * width // height, resize_y)
    return HiresTarget(to, ((to[0] - resize_x) // LATENT_SCALE, (to[1] - resize_y) // LATENT_SCALE), field)


def plan_hires(request: Txt2ImgRequest, job: GenerationJob, *, fix_steps: bool = True,
               upscale: ImageUpscale | None = None) -> tuple[HiresSpec | None, list[tuple[str, object]]]:
    """The second pass of `job` and its infotext fields, or (None, []) when hires fix is off or would not
    change the size (A1111 then turns it off). The pass always runs exactly its steps (A1111 passes them)."""
    if not request.enable_hr:
        return None, []
    _check(request)
    target = hires_target(request.width, request.height, request.hr_scale, request.hr_resize_x, request.hr_resize_y)
    if target.upscale_to == (request.width, request.height):
        return None, []
    name = request.hr_upscaler or DEFAULT_LATENT_UPSCALER
    latent = find_latent_mode(name)
    if latent is None and upscale is None:
        raise InvalidRequest(f"could not find upscaler named {name}")
    sampler, schedule = job.sampler, job.schedule
    if request.hr_sampler_name or request.hr_scheduler:
        sampler, schedule = resolve_sampler(request.hr_sampler_name or job.sampler.name,
                                            request.hr_scheduler or request.scheduler)
        schedule = effective_schedule(sampler, schedule)
    prompt = request.hr_prompt or job.prompt
    negative = request.hr_negative_prompt or job.negative_prompt
    spec = HiresSpec(
        upscale_to=target.upscale_to, truncate=target.truncate,
        steps=img2img_steps(request.hr_second_pass_steps or request.steps, request.denoising_strength, fix_steps),
        sampler=sampler, schedule=schedule, prompt=prompt, negative_prompt=negative,
        latent_mode=None if latent is None else (latent.mode, latent.antialias),
        upscale_image=None if latent is not None else (lambda image, w, h: upscale(image, name, w, h)),
        eta=job.eta, sampler_settings=job.sampler_settings)
    return spec, _fields(request, job, spec, target)


def _check(request: Txt2ImgRequest) -> None:
    if not 1.0 <= request.hr_scale <= 8.0:
        raise InvalidRequest(f"hr_scale must be between 1 and 8, got {request.hr_scale}")
    for name in ("hr_resize_x", "hr_resize_y"):
        value = getattr(request, name)
        if not 0 <= value <= MAX_SIDE or value % LATENT_SCALE:
            raise InvalidRequest(f"{name} must be 0 or a multiple of 8 up to {MAX_SIDE}, got {value}")
    if not 0 <= request.hr_second_pass_steps <= 150:
        raise InvalidRequest(f"hr_second_pass_steps must be between 0 and 150, got {request.hr_second_pass_steps}")
    if not 0 <= request.denoising_strength <= 1:
        raise InvalidRequest(f"denoising_strength must be between 0 and 1, got {request.denoising_strength}")
    if request.hr_checkpoint_name and request.hr_checkpoint_name != "Use same checkpoint":
        raise InvalidRequest("a separate hires checkpoint (hr_checkpoint_name) is not supported yet")


def _fields(request: Txt2ImgRequest, job: GenerationJob, spec: HiresSpec,
            target: HiresTarget) -> list[tuple[str, object]]:
    """A1111's order: sampler, prompts (only if different), schedule type, size, steps, upscaler."""
    fields: list[tuple[str, object]] = []
    if request.hr_sampler_name and spec.sampler.name != job.sampler.name:
        fields.append(("Hires sampler", request.hr_sampler_name))
    if spec.prompt != job.prompt:
        fields.append(("Hires prompt", spec.prompt))
    if spec.negative_prompt != job.negative_prompt:
        fields.append(("Hires negative prompt", spec.negative_prompt))
    if request.hr_scheduler and spec.schedule.label != job.schedule.label:
        fields.append(("Hires schedule type", spec.schedule.label))
    fields.append(target.field)
    if request.hr_second_pass_steps:
        fields.append(("Hires steps", request.hr_second_pass_steps))
    if request.hr_upscaler is not None:
        fields.append(("Hires upscaler", request.hr_upscaler))
    return fields
