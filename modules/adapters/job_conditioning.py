"""From a job's prompt text to the guided model function the sampling loop calls (A1111 prompt semantics).

The prompt language lives in ``core.prompt_parser`` (schedules, ``AND``, emphasis), encoding in
``adapters.prompt_embeds`` and guidance in ``adapters.guidance``; this module only connects them for one batch.
"""
from __future__ import annotations

from functools import lru_cache

from modules.core.model_family import ModelFamily
from modules.core.params import PromptOptions
from modules.core.prompt_parser import PromptPlan, parse_attention, plan_prompt

from .conditioning import ConditioningSchedule, EncodeOptions, ImagePlan, PromptPart
from .guidance import GuidanceOptions, GuidedModel, size_conditions
from .prompt_embeds import prompt_encoder_for


@lru_cache(maxsize=256)
def _fragments(text: str) -> tuple[tuple[str, float], ...]:
    return tuple(parse_attention(text))


def _plan_at(plan: PromptPlan, negative: PromptPlan, batch: int):
    def at(step: int) -> list[ImagePlan]:
        # A1111's denoiser looks schedules up with its 0-based step counter (``step <= end_step``), so
        # ``[a:b:10]`` keeps ``a`` through step index 10; we do the same to match its images.
        parts = tuple(PromptPart(_fragments(text), weight) for text, weight in plan.texts_at(step))
        image = ImagePlan(parts=parts, negative=_fragments(negative.texts_at(step)[0][0]))
        return [image] * batch
    return at


def guided_model(pipe, family: ModelFamily, *, prompt: str, negative_prompt: str, steps: int, batch: int,
                 cfg_scale: float, size: tuple[int, int], embedding_names=(),
                 settings: PromptOptions = PromptOptions(), image_cond=None) -> GuidedModel:
    """The ``ModelFn`` for one batch: ``prompt`` planned over ``steps`` (editing, alternation, ``AND``),
    each distinct text encoded once, CFG combined per A1111. ``size`` is (width, height) for SDXL's conditions."""
    plan = plan_prompt(prompt, steps, use_old_scheduling=settings.use_old_scheduling)
    negative = plan_prompt(negative_prompt, steps, allow_and=False, use_old_scheduling=settings.use_old_scheduling)
    encoder = prompt_encoder_for(pipe, family, embedding_names=embedding_names)
    options = EncodeOptions(clip_skip=settings.clip_skip, emphasis=settings.emphasis,
                            sdxl_clip_l_skip=settings.sdxl_clip_l_skip)
    schedule = ConditioningSchedule(encoder, _plan_at(plan, negative, batch), options)
    time_ids, uncond_time_ids = size_conditions(family, size[0], size[1])
    guidance = GuidanceOptions(cfg_scale=cfg_scale, time_ids=time_ids, uncond_time_ids=uncond_time_ids,
                               pad_cond_uncond=settings.pad_cond_uncond,
                               batch_cond_uncond=settings.batch_cond_uncond)
    return GuidedModel(pipe.unet, schedule, guidance, image_cond=image_cond)
