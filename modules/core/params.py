"""Requests and resolved jobs exchanged between interfaces, the core and the backend."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .samplers import SamplerSpec, ScheduleSpec
from .seeds import NoiseSpec


@dataclass(frozen=True)
class Txt2ImgRequest:
    """What a user asked for in the txt2img tab or through ``POST /sdapi/v1/txt2img``."""

    prompt: str = ""
    negative_prompt: str = ""
    styles: tuple[str, ...] = ()
    steps: int = 20
    sampler_name: str | None = "DPM++ 2M"
    scheduler: str | None = "Automatic"
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0.0
    seed_resize_from_h: int = -1
    seed_resize_from_w: int = -1
    batch_size: int = 1
    n_iter: int = 1
    save_images: bool = True
    checkpoint: str | None = None
    override_settings: Mapping[str, object] = field(default_factory=dict)
    source: str = "ui"


@dataclass(frozen=True)
class GenerationJob:
    """One batch for the backend: everything resolved, nothing left to look up."""

    prompt: str
    negative_prompt: str
    steps: int
    sampler: SamplerSpec
    schedule: ScheduleSpec
    cfg_scale: float
    width: int
    height: int
    seeds: tuple[int, ...]
    eta: float | None = None
    rng: str = "CPU"
    subseeds: tuple[int, ...] = ()
    subseed_strength: float = 0.0
    seed_resize_from: tuple[int, int] | None = None

    @property
    def batch_size(self) -> int:
        """How many images this batch makes."""
        return len(self.seeds)

    def noise_specs(self) -> tuple[NoiseSpec, ...]:
        """How each image's initial noise is made (seed, variation seed and strength, resize-from size)."""
        subseeds = self.subseeds or (-1,) * len(self.seeds)
        return tuple(NoiseSpec(seed=seed, subseed=subseed, subseed_strength=self.subseed_strength,
                               resize_from=self.seed_resize_from) for seed, subseed in zip(self.seeds, subseeds))
