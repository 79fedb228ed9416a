"""What pasting an infotext puts into the txt2img and img2img controls (A1111's paste fields), as pure functions.

`read_pasted` reads the text as A1111's paste does (styles per `infotext_styles`, `infotext_skip_pasting`);
`txt2img_fields` / `img2img_fields` give typed control values by request field name. Settings named in the
infotext (`Clip skip`…) and the checkpoint are `infotext_overrides`' job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Callable, Mapping, Sequence

from .infotext import parse_infotext
from .samplers import find_sampler, find_schedule
from .settings import Settings
from .styles import PromptStyle, strip_infotext_styles

MASK_MODES = ("Inpaint masked", "Inpaint not masked")
MASKED_CONTENT = ("fill", "original", "latent noise", "latent nothing")
INPAINT_AREAS = ("Whole picture", "Only masked")


@dataclass(frozen=True)
class PastedFields:
    """Control values from an infotext by request field name (API names); None leaves a control as it is.

    `subseed_show` ticks the seed "Extra" row; `enable_hr` and the `hr_*` fields are txt2img's; the inpaint
    fields are img2img's; `denoising_strength` is the hires pass's in txt2img.
    """

    prompt: str | None = None
    negative_prompt: str | None = None
    styles: tuple[str, ...] | None = None
    steps: int | None = None
    sampler_name: str | None = None
    scheduler: str | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    batch_size: int | None = None
    subseed_show: bool | None = None
    subseed: int | None = None
    subseed_strength: float | None = None
    seed_resize_from_w: int | None = None
    seed_resize_from_h: int | None = None
    denoising_strength: float | None = None
    enable_hr: bool | None = None
    hr_scale: float | None = None
    hr_upscaler: str | None = None
    hr_second_pass_steps: int | None = None
    hr_resize_x: int | None = None
    hr_resize_y: int | None = None
    hr_checkpoint_name: str | None = None
    hr_sampler_name: str | None = None
    hr_scheduler: str | None = None
    hr_prompt: str | None = None
    hr_negative_prompt: str | None = None
    mask_blur: int | None = None
    inpainting_mask_invert: int | None = None
    inpainting_fill: int | None = None
    inpaint_full_res: bool | None = None
    inpaint_full_res_padding: int | None = None

    def values(self) -> dict[str, object]:
        """The fields that are set, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def read_pasted(text: str, settings: Settings, styles: Sequence[PromptStyle] = ()) -> dict[str, object]:
    """Parse an infotext as A1111's paste does: styles found in the prompts become `Styles array` (per the
    `infotext_styles` setting) and keys in `infotext_skip_pasting` are dropped."""
    parsed = parse_infotext(text)
    # empty hires prompts are parse defaults ("same as the prompt"), not text that has to carry the styles
    written = {k: v for k, v in parsed.items() if v != "" or k not in ("Hires prompt", "Hires negative prompt")}
    info = {**parsed, **strip_infotext_styles(written, styles, str(settings.get("infotext_styles", "Apply if any")))}
    skip = settings.get("infotext_skip_pasting", ())
    return {k: v for k, v in info.items() if not isinstance(skip, (list, tuple)) or k not in skip}


def number_value(value: object) -> float | int | None:
    """An infotext value as a finite int or float (whole numbers as int), or None."""
    try:
        number = float(str(value))
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() else number


def _whole(value: object) -> int | None:
    number = number_value(value)
    return int(number) if number is not None and float(number).is_integer() else None


def _get(info: Mapping[str, object], key: str, convert: Callable[[object], object]) -> object:
    value = info.get(key)
    return None if value is None else convert(value)


def _sampler_name(value: object) -> str | None:
    spec = find_sampler(str(value))
    return spec.name if spec else None


def _schedule_label(value: object) -> str | None:
    spec = find_schedule(str(value))
    return spec.label if spec else None


def _index(choices: tuple[str, ...]) -> Callable[[object], int | None]:
    return lambda value: choices.index(str(value)) if str(value) in choices else None


def _common(info: Mapping[str, object]) -> dict[str, object]:
    styles = info.get("Styles array")
    extras = "Variation seed" in info or "Seed resize from-1" in info
    return {
        "prompt": _get(info, "Prompt", str), "negative_prompt": _get(info, "Negative prompt", str),
        "styles": tuple(styles) if isinstance(styles, (list, tuple)) else None,
        "steps": _get(info, "Steps", _whole), "sampler_name": _get(info, "Sampler", _sampler_name),
        "scheduler": _get(info, "Schedule type", _schedule_label), "cfg_scale": _get(info, "CFG scale", number_value),
        "seed": _get(info, "Seed", _whole), "width": _get(info, "Size-1", _whole),
        "height": _get(info, "Size-2", _whole), "batch_size": _get(info, "Batch size", _whole),
        "subseed_show": extras, "subseed": _get(info, "Variation seed", _whole),
        "subseed_strength": _get(info, "Variation seed strength", number_value),
        "seed_resize_from_w": _get(info, "Seed resize from-1", _whole),
        "seed_resize_from_h": _get(info, "Seed resize from-2", _whole),
    }


def _hires(info: Mapping[str, object]) -> dict[str, object]:
    enabled = "Denoising strength" in info and (
        "Hires upscale" in info or "Hires upscaler" in info or bool(_whole(info.get("Hires resize-1", 0))))
    hires_sampler = info.get("Hires sampler")
    return {
        "enable_hr": enabled, "denoising_strength": _get(info, "Denoising strength", number_value),
        "hr_scale": _get(info, "Hires upscale", number_value), "hr_upscaler": _get(info, "Hires upscaler", str),
        "hr_second_pass_steps": _whole(info.get("Hires steps", 0)) if enabled else None,
        "hr_resize_x": _get(info, "Hires resize-1", _whole), "hr_resize_y": _get(info, "Hires resize-2", _whole),
        "hr_checkpoint_name": _get(info, "Hires checkpoint", str),
        "hr_sampler_name": (hires_sampler if hires_sampler == "Use same sampler"
                            else _get(info, "Hires sampler", _sampler_name)),
        "hr_scheduler": (info.get("Hires schedule type") if info.get("Hires schedule type") == "Use same scheduler"
                         else _get(info, "Hires schedule type", _schedule_label)),
        "hr_prompt": _get(info, "Hires prompt", str), "hr_negative_prompt": _get(info, "Hires negative prompt", str),
    }


def txt2img_fields(info: Mapping[str, object]) -> PastedFields:
    """txt2img control values from a parsed infotext; `Denoising strength` with a hires key enables hires fix.

    >>> f = txt2img_fields(parse_infotext("fox\\nSteps: 9, Sampler: Euler a, CFG scale: 7, Seed: 3, Size: 64x96"))
    >>> (f.prompt, f.steps, f.sampler_name, f.cfg_scale, f.seed, f.width, f.height, f.enable_hr)
    ('fox', 9, 'Euler a', 7, 3, 64, 96, False)
    """
    return PastedFields(**_common(info), **_hires(info))


def img2img_fields(info: Mapping[str, object]) -> PastedFields:
    """img2img control values from a parsed infotext: the shared ones, denoising and the inpaint options."""
    full_res = _get(info, "Inpaint area", _index(INPAINT_AREAS))
    return PastedFields(
        **_common(info), denoising_strength=_get(info, "Denoising strength", number_value),
        mask_blur=_get(info, "Mask blur", _whole), inpainting_mask_invert=_get(info, "Mask mode", _index(MASK_MODES)),
        inpainting_fill=_get(info, "Masked content", _index(MASKED_CONTENT)),
        inpaint_full_res=None if full_res is None else bool(full_res),
        inpaint_full_res_padding=_get(info, "Masked area padding", _whole))


def unknown_names(info: Mapping[str, object], pasted: PastedFields) -> list[str]:
    """Messages for a sampler or schedule type in the infotext that this program does not offer."""
    missing = []
    if info.get("Sampler") is not None and pasted.sampler_name is None:
        missing.append(f"Sampler {info['Sampler']!r} is not available; the sampling method was left as it is")
    if info.get("Schedule type") is not None and pasted.scheduler is None:
        missing.append(f"Schedule type {info['Schedule type']!r} is not available; it was left as it is")
    return missing
