"""The A1111 ``parameters`` text of one generated image, from its job, checkpoint, add-ons and extra fields."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from . import infotext
from .backend import LoadedCheckpoint
from .job_addons import AddonOutcome
from .params import GenerationJob, GenerationRequest
from .sampler_settings import sampler_infotext, uses_ensd
from .settings import Settings
from .version import APP_VERSION


@dataclass(frozen=True)
class Made:
    """What one image was made with: the checkpoint, the add-ons' outcome and the job."""

    loaded: LoadedCheckpoint
    outcome: AddonOutcome
    job: GenerationJob


def _prompt_infotext(job: GenerationJob) -> list[tuple[str, object]]:
    """A1111 writes ``Emphasis`` only when it is not Original and a prompt has brackets, ``Pad conds`` when on."""
    options, extra = job.prompt_options, []
    if options.emphasis != "Original" and any(c in text for text in (job.prompt, job.negative_prompt) for c in "(["):
        extra.append(("Emphasis", options.emphasis))
    if options.pad_cond_uncond:
        extra.append(("Pad conds", True))
    return extra


def build_infotext(made: Made, request: GenerationRequest, seed: int, settings: Settings, *,
                   subseed: int = -1, fixed: Mapping[str, object] | None = None,
                   extra: tuple[tuple[str, object], ...] = ()) -> str:
    """The A1111 ``parameters`` text for one image of a job (prompts as written, tags included).

    `fixed` adds keys of the fixed list (``Denoising strength``, ``Conditional mask weight``); `extra` adds
    fields (img2img, hires) after the add-on fields, in their order."""
    job, loaded = made.job, made.loaded
    varied = request.subseed_strength != 0
    resized = request.seed_resize_from_w > 0 and request.seed_resize_from_h > 0
    fixed_fields: dict[str, object] = {
        "Steps": job.steps, "Sampler": job.sampler.name, "Schedule type": job.schedule.label,
        "CFG scale": job.cfg_scale, "Seed": seed, "Size": f"{job.width}x{job.height}",
        "Model hash": loaded.record.short_hash if settings.get("add_model_hash_to_info") else None,
        "Model": loaded.record.stem if settings.get("add_model_name_to_info") else None,
        "Variation seed": subseed if varied else None,
        "Variation seed strength": request.subseed_strength if varied else None,
        "Seed resize from": f"{request.seed_resize_from_w}x{request.seed_resize_from_h}" if resized else None,
        "RNG": job.rng if job.rng != "GPU" else None,
        "Clip skip": job.prompt_options.clip_skip if job.prompt_options.clip_skip > 1 else None,
        "ENSD": (job.sampler_settings.eta_noise_seed_delta
                 if uses_ensd(job.sampler, job.sampler_settings, job.eta) else None),
        **made.outcome.fixed, **(fixed or {}),
    }
    version = APP_VERSION if settings.get("add_version_to_infotext") else None
    extras = [*extra, *made.outcome.extra, *_prompt_infotext(job),
              *sampler_infotext(job.sampler, job.schedule, job.sampler_settings, job.eta)]
    fields = infotext.order_fields(fixed_fields, extras, version)
    return infotext.format_infotext(request.prompt, request.negative_prompt, fields)
