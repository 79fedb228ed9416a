"""The ``info`` field of txt2img/img2img answers: a JSON string with every key of A1111's payload."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from modules.core.infotext import split_infotext
from modules.core.results import GenerationResult
from modules.core.version import APP_VERSION

if TYPE_CHECKING:
    from .schemas import GenerationBody

# Infotext keys A1111 keeps as top-level info keys or fixed generation parameters; the rest are "extra".
BASE_KEYS = frozenset({"Steps", "Sampler", "CFG scale", "Image CFG scale", "Seed", "Face restoration", "Size",
                       "Model hash", "Model", "VAE hash", "VAE", "Variation seed", "Variation seed strength",
                       "Seed resize from", "Denoising strength", "Conditional mask weight", "Clip skip", "ENSD",
                       "Tiling", "RNG", "Version"})


def _or_default(body: GenerationBody, name: str) -> Any:
    """A body field as the job used it: ``null`` stands for the field's default."""
    value = getattr(body, name, None)
    return type(body).model_fields[name].default if value is None and name in type(body).model_fields else value


def _number(value: object) -> object:
    """An infotext number as int or float (other values as they are)."""
    if not isinstance(value, str):
        return value
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def info_dict(result: GenerationResult, body: GenerationBody) -> dict[str, Any]:
    """The ``info`` payload as a dict: result facts, plus what the first image's infotext records."""
    fields = dict(split_infotext(result.infotexts[0]).fields) if result.images else {}
    count = len(result.images)
    return {
        "prompt": result.prompt, "all_prompts": [result.prompt] * count,
        "negative_prompt": result.negative_prompt, "all_negative_prompts": [result.negative_prompt] * count,
        "seed": result.seed, "all_seeds": result.all_seeds, "subseed": result.subseed,
        "all_subseeds": result.all_subseeds, "subseed_strength": result.subseed_strength,
        "width": result.width, "height": result.height, "sampler_name": result.sampler_name,
        "cfg_scale": result.cfg_scale, "steps": result.steps, "batch_size": result.batch_size,
        "restore_faces": bool(body.restore_faces), "face_restoration_model": None,
        "sd_model_name": result.model_name, "sd_model_hash": result.model_hash,
        "sd_vae_name": fields.get("VAE"), "sd_vae_hash": fields.get("VAE hash"),
        "seed_resize_from_w": _or_default(body, "seed_resize_from_w"),
        "seed_resize_from_h": _or_default(body, "seed_resize_from_h"),
        "denoising_strength": _number(fields.get("Denoising strength", getattr(body, "denoising_strength", None))),
        "extra_generation_params": {k: v for k, v in fields.items() if k not in BASE_KEYS},
        "index_of_first_image": result.index_of_first_image,
        "infotexts": [img.infotext for img in result.gallery], "styles": list(body.styles or []),
        "job_timestamp": result.job_timestamp, "clip_skip": int(fields.get("Clip skip", 1)),
        "is_using_inpainting_conditioning": "Conditional mask weight" in fields, "version": APP_VERSION,
        "warnings": [*result.warnings, *body.warnings()], "interrupted": result.interrupted,
    }


def info_payload(result: GenerationResult, body: GenerationBody) -> str:
    """The ``info`` field: a JSON string with A1111's keys (clients ``json.loads`` it)."""
    return json.dumps(info_dict(result, body), ensure_ascii=False, default=lambda value: None)
