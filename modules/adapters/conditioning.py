"""Per-step conditioning: which prompts each image uses at a step, each distinct prompt encoded once."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import torch

from .prompt_chunks import Fragment
from .prompt_embeds import EncodedPrompt

Fragments = tuple[Fragment, ...]


@dataclass(frozen=True)
class PromptPart:
    """One ``AND`` part of a positive prompt: its emphasis fragments and its weight (``cat AND dog :0.5``)."""

    fragments: Fragments
    weight: float = 1.0


@dataclass(frozen=True)
class ImagePlan:
    """What one image is conditioned on at one step: its ``AND`` parts and its negative prompt's fragments."""

    parts: tuple[PromptPart, ...]
    negative: Fragments


PlanAtStep = Callable[[int], Sequence[ImagePlan]]


@dataclass(frozen=True)
class EncodeOptions:
    """The settings that shape encoding (A1111 ``CLIP_stop_at_last_layers``, ``emphasis``, ``sdxl_clip_l_skip``)."""

    clip_skip: int = 1
    emphasis: str = "Original"
    sdxl_clip_l_skip: bool = False


@dataclass(frozen=True)
class StepConditioning:
    """Encoded conditioning of a batch at one step: per image its (cond, weight) parts and its uncond."""

    conds: tuple[tuple[tuple[EncodedPrompt, float], ...], ...]
    unconds: tuple[EncodedPrompt, ...]


class TextEncoder(Protocol):
    """What the schedule needs from ``prompt_embeds.PromptEncoder``."""

    def encode(self, fragments: Sequence[Fragment], *, clip_skip: int, emphasis: str,
               sdxl_clip_l_skip: bool) -> EncodedPrompt:
        """Encode a positive prompt."""

    def encode_negative(self, fragments: Sequence[Fragment], *, clip_skip: int, emphasis: str,
                        sdxl_clip_l_skip: bool) -> EncodedPrompt:
        """Encode a negative prompt."""


class ConditioningSchedule:
    """Conditioning per sampling step from a plan; encodes each distinct text once (per job)."""

    def __init__(self, encoder: TextEncoder, plan_at_step: PlanAtStep, options: EncodeOptions = EncodeOptions()):
        self._encoder = encoder
        self._plan_at_step = plan_at_step
        self._options = options
        self._cache: dict[tuple[bool, Fragments], EncodedPrompt] = {}

    def at(self, step: int) -> StepConditioning:
        """The conditioning for 0-based sampling step ``step``."""
        plans = tuple(self._plan_at_step(step))
        if not plans or any(not plan.parts for plan in plans):
            raise ValueError("every image needs at least one prompt part")
        conds = tuple(tuple((self._encoded(part.fragments, False), part.weight) for part in plan.parts)
                      for plan in plans)
        return StepConditioning(conds=conds, unconds=tuple(self._encoded(plan.negative, True) for plan in plans))

    def empty_chunk(self) -> torch.Tensor:
        """The empty prompt's embeds (1, 77, dim): A1111 pads cond/uncond with it when ``pad_cond_uncond`` is on."""
        return self._encoded((("", 1.0),), False).embeds

    def _encoded(self, fragments: Fragments, negative: bool) -> EncodedPrompt:
        key = (negative, tuple((text, float(weight)) for text, weight in fragments))
        if key not in self._cache:
            encode = self._encoder.encode_negative if negative else self._encoder.encode
            self._cache[key] = encode(list(key[1]), clip_skip=self._options.clip_skip,
                                      emphasis=self._options.emphasis,
                                      sdxl_clip_l_skip=self._options.sdxl_clip_l_skip)
        return self._cache[key]
