"""A1111's ``infotext`` request field: values read from an infotext fill every body field the client did not
send, and a few infotext keys become this request's setting overrides."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from modules.core.infotext import parse_infotext

if TYPE_CHECKING:
    from .schemas import GenerationBody

log = logging.getLogger(__name__)
# infotext key -> (body field, type)
FIELDS: dict[str, tuple[str, type]] = {
    "Prompt": ("prompt", str), "Negative prompt": ("negative_prompt", str), "Steps": ("steps", int),
    "Sampler": ("sampler_name", str), "Schedule type": ("scheduler", str), "CFG scale": ("cfg_scale", float),
    "Seed": ("seed", int), "Size-1": ("width", int), "Size-2": ("height", int), "Variation seed": ("subseed", int),
    "Variation seed strength": ("subseed_strength", float), "Seed resize from-1": ("seed_resize_from_w", int),
    "Seed resize from-2": ("seed_resize_from_h", int), "Denoising strength": ("denoising_strength", float),
    "Image CFG scale": ("image_cfg_scale", float), "Mask blur": ("mask_blur", int),
    "Hires upscale": ("hr_scale", float), "Hires upscaler": ("hr_upscaler", str),
    "Hires steps": ("hr_second_pass_steps", int), "Hires resize-1": ("hr_resize_x", int),
    "Hires resize-2": ("hr_resize_y", int), "Hires prompt": ("hr_prompt", str),
    "Hires negative prompt": ("hr_negative_prompt", str),
}
# infotext key -> (setting, type), applied unless override_settings already names the setting
SETTINGS: dict[str, tuple[str, type]] = {
    "Clip skip": ("CLIP_stop_at_last_layers", int), "ENSD": ("eta_noise_seed_delta", int),
    "RNG": ("randn_source", str), "Emphasis": ("emphasis", str),
    "Conditional mask weight": ("inpainting_mask_weight", float),
}


def _convert(value: object, kind: type) -> Any:
    """An infotext value as `kind`, or None when it does not convert."""
    try:
        return kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        return None


def apply_infotext(body: GenerationBody) -> None:
    """Fill unsent fields and unset overrides of `body` from its ``infotext`` (in place, before validation)."""
    parsed = parse_infotext(body.infotext or "")
    sent, fields = body.model_fields_set, type(body).model_fields
    if "Hires upscale" in parsed and "enable_hr" in fields and "enable_hr" not in sent:
        body.enable_hr = True  # type: ignore[attr-defined]
    for key, (name, kind) in FIELDS.items():
        value = _convert(parsed.get(key), kind) if key in parsed else None
        if value is not None and name in fields and name not in sent:
            setattr(body, name, value)
    overrides = dict(body.override_settings or {})
    for key, (setting, kind) in SETTINGS.items():
        value = _convert(parsed.get(key), kind) if key in parsed else None
        if value is not None and setting not in overrides:
            overrides[setting] = value
    body.override_settings = overrides or body.override_settings
    log.info("Request fields filled from infotext: %s", sorted(k for k in FIELDS if k in parsed))
