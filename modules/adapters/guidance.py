"""The guided model function the denoising loop calls: batched UNet passes, CFG and composable ``AND``."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, Sequence

import torch

from modules.core.model_family import ModelFamily

from .conditioning import StepConditioning
from .prompt_embeds import EncodedPrompt
from .sampling.types import DenoiserOutput, ModelFn  # noqa: F401 - ModelFn is what GuidedModel implements


class ConditioningProvider(Protocol):
    """Per-step conditioning (``conditioning.ConditioningSchedule``)."""

    def at(self, step: int) -> StepConditioning:
        """The conditioning for a step."""

    def empty_chunk(self) -> torch.Tensor:
        """The empty prompt's embeds, for ``pad_cond_uncond``."""


@dataclass(frozen=True)
class GuidanceOptions:
    """How to guide: CFG scale, SDXL size conditioning and A1111's cond/uncond batching settings.

    ``time_ids`` are SDXL's added conditions (see ``sdxl_time_ids``); ``uncond_time_ids`` defaults to them
    (the refiner's negative uses a lower aesthetic score). ``pad_cond_uncond`` and ``batch_cond_uncond`` are
    the A1111 settings of the same name."""

    cfg_scale: float
    time_ids: tuple[float, ...] | None = None
    uncond_time_ids: tuple[float, ...] | None = None
    pad_cond_uncond: bool = False
    batch_cond_uncond: bool = True


def sdxl_time_ids(width: int, height: int, *, crop_top: int = 0, crop_left: int = 0) -> tuple[float, ...]:
    """SDXL txt2img size conditioning: (original h, w, crop top, left, target h, w), original = target size."""
    return (float(height), float(width), float(crop_top), float(crop_left), float(height), float(width))


def sdxl_refiner_time_ids(width: int, height: int, aesthetic_score: float, *, crop_top: int = 0,
                          crop_left: int = 0) -> tuple[float, ...]:
    """SDXL refiner size conditioning: (original h, w, crop top, left, aesthetic score)."""
    return (float(height), float(width), float(crop_top), float(crop_left), float(aesthetic_score))


def size_conditions(family: ModelFamily, width: int, height: int, *, crops: tuple[int, int] = (0, 0),
                    aesthetic: tuple[float, float] = (6.0, 2.5)) -> tuple[tuple[float, ...] | None, ...]:
    """(cond, uncond) time ids for ``family`` at ``width`` x ``height`` (None for SD1/SD2).

    ``crops`` is A1111 (``sdxl_crop_top``, ``sdxl_crop_left``); ``aesthetic`` the refiner's (positive, negative)
    scores (A1111 ``sdxl_refiner_high_aesthetic_score`` / ``sdxl_refiner_low_aesthetic_score``)."""
    if family is ModelFamily.SDXL_REFINER:
        return tuple(sdxl_refiner_time_ids(width, height, score, crop_top=crops[0], crop_left=crops[1])
                     for score in aesthetic)
    if family.is_sdxl:
        ids = sdxl_time_ids(width, height, crop_top=crops[0], crop_left=crops[1])
        return ids, ids
    return None, None


@dataclass(frozen=True)
class _Rows:
    """UNet input rows: the image each row belongs to and its text (and SDXL size) conditioning."""

    owners: tuple[int, ...]
    context: torch.Tensor
    pooled: torch.Tensor | None
    time_ids: tuple[tuple[float, ...], ...] | None  # one entry per row (SDXL only)

    def cat(self, other: _Rows) -> _Rows:
        """Both row sets as one batch (contexts must have equal lengths)."""
        pooled = None if self.pooled is None else torch.cat([self.pooled, other.pooled])
        time_ids = None if self.time_ids is None else self.time_ids + other.time_ids
        return _Rows(self.owners + other.owners, torch.cat([self.context, other.context]), pooled, time_ids)


def _per_row(time_ids: tuple[float, ...] | None, count: int) -> tuple[tuple[float, ...], ...] | None:
    return None if time_ids is None else (time_ids,) * count


def _stack(prompts: Sequence[EncodedPrompt]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Stack embeds; shorter ones repeat their last vector to the longest length (A1111 ``stack_conds``)."""
    length = max(p.embeds.shape[1] for p in prompts)
    embeds = [torch.cat([p.embeds, p.embeds[:, -1:].expand(-1, length - p.embeds.shape[1], -1)], dim=1)
              for p in prompts]
    pooled = [p.pooled for p in prompts]
    return torch.cat(embeds), (None if any(p is None for p in pooled) else torch.cat(pooled))


def _pad_with_empty(context: torch.Tensor, length: int, empty: torch.Tensor) -> torch.Tensor:
    """Append empty-prompt chunks until ``length`` (A1111 ``pad_cond_uncond``)."""
    repeats = (length - context.shape[1]) // empty.shape[1]
    return torch.cat([context, empty.to(context).expand(context.shape[0], -1, -1).repeat(1, repeats, 1)], dim=1)


class GuidedModel:
    """Implements ``ModelFn``: uncond + cfg · Σᵢ wᵢ (condᵢ − uncond) per image, all rows in as few UNet calls as
    A1111's settings allow.

    The uncond pass always runs, also at CFG scale 1 (A1111 skips it only for its NGMS / skip-early-CFG
    options): with one part of weight 1 the result is then the cond output, and CFG++ samplers still get uncond."""

    def __init__(self, unet: torch.nn.Module, conditioning: ConditioningProvider, options: GuidanceOptions, *,
                 image_cond: torch.Tensor | None = None):
        self._unet = unet
        self._conditioning = conditioning
        self._options = options
        self._image_cond = image_cond  # inpainting UNets: mask + masked-image latents, concatenated per row
        self._needs_sizes = getattr(unet.config, "addition_embed_type", None) == "text_time"
        if self._needs_sizes and options.time_ids is None:
            raise ValueError("an SDXL UNet needs time_ids (see sdxl_time_ids)")

    @torch.no_grad()
    def __call__(self, x_in: torch.Tensor, t: torch.Tensor, step: int) -> DenoiserOutput:
        """Evaluate the guided model at one step."""
        conditioning = self._conditioning.at(step)
        if len(conditioning.conds) != x_in.shape[0]:
            raise ValueError(f"{len(conditioning.conds)} conditionings for a batch of {x_in.shape[0]} latents")
        cond_rows, weights = self._cond_rows(conditioning)
        uncond_rows = self._uncond_rows(conditioning)
        cond_rows, uncond_rows = self._equalise(cond_rows, uncond_rows)
        if self._options.batch_cond_uncond and cond_rows.context.shape[1] == uncond_rows.context.shape[1]:
            out = self._run(x_in, t, cond_rows.cat(uncond_rows))
            cond_out, uncond_out = out[:len(cond_rows.owners)], out[len(cond_rows.owners):]
        else:  # A1111 runs different-length cond and uncond as separate batches
            cond_out = self._run(x_in, t, cond_rows)
            uncond_out = self._run(x_in, t, uncond_rows)
        guided = uncond_out.clone()
        for row, (owner, weight) in enumerate(zip(cond_rows.owners, weights)):
            guided[owner] += (cond_out[row] - uncond_out[owner]) * (weight * self._options.cfg_scale)
        return DenoiserOutput(guided=guided, uncond=uncond_out)

    def _cond_rows(self, conditioning: StepConditioning) -> tuple[_Rows, list[float]]:
        parts = [(image, prompt, weight) for image, image_parts in enumerate(conditioning.conds)
                 for prompt, weight in image_parts]
        context, pooled = _stack([prompt for _, prompt, _ in parts])
        rows = _Rows(tuple(image for image, _, _ in parts), context, pooled,
                     _per_row(self._options.time_ids, len(parts)))
        return rows, [weight for _, _, weight in parts]

    def _uncond_rows(self, conditioning: StepConditioning) -> _Rows:
        context, pooled = _stack(conditioning.unconds)
        time_ids = self._options.uncond_time_ids or self._options.time_ids
        count = len(conditioning.unconds)
        return _Rows(tuple(range(count)), context, pooled, _per_row(time_ids, count))

    def _equalise(self, cond: _Rows, uncond: _Rows) -> tuple[_Rows, _Rows]:
        """With ``pad_cond_uncond``, pad the shorter side with empty-prompt chunks so both share one batch."""
        length_c, length_u = cond.context.shape[1], uncond.context.shape[1]
        if not self._options.pad_cond_uncond or length_c == length_u:
            return cond, uncond
        empty = self._conditioning.empty_chunk()
        if length_c < length_u:
            return replace(cond, context=_pad_with_empty(cond.context, length_u, empty)), uncond
        return cond, replace(uncond, context=_pad_with_empty(uncond.context, length_c, empty))

    def _run(self, x_in: torch.Tensor, t: torch.Tensor, rows: _Rows) -> torch.Tensor:
        """One UNet call over ``rows``: each row sees its image's latents (and image conditioning) and timestep."""
        owners = torch.tensor(rows.owners, device=x_in.device)
        x = x_in.index_select(0, owners)
        if self._image_cond is not None:
            x = torch.cat([x, self._image_cond.to(x).index_select(0, owners)], dim=1)
        t = t.reshape(-1).to(x_in.device)
        timesteps = t.expand(len(rows.owners)) if t.numel() == 1 else t.index_select(0, owners)
        dtype = self._unet.dtype
        added = None
        if self._needs_sizes:
            if rows.pooled is None:
                raise ValueError("an SDXL UNet needs pooled text embeddings")
            added = {"text_embeds": rows.pooled.to(x_in.device, dtype),
                     "time_ids": torch.tensor(rows.time_ids, device=x_in.device, dtype=dtype)}
        return self._unet(x, timesteps, encoder_hidden_states=rows.context.to(x_in.device, dtype),
                          added_cond_kwargs=added).sample
