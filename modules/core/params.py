"""Requests and resolved jobs exchanged between interfaces, the core and the backend."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .sampler_settings import SamplerSettings
from .samplers import SamplerSpec, ScheduleSpec


@dataclass(frozen=True)
class Txt2ImgRequest:
    """What a user asked for in the txt2img tab or through ``POST /sdapi/v1/txt2img``."""

    prompt: str = ""
    negative_prompt: str = ""
    steps: int = 20
    sampler_name: str | None = "DPM++ 2M"
    scheduler: str | None = "Automatic"
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    seed: int = -1
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
    eta: float | None = None  # the sampler's effective eta (eta_ancestral or eta_ddim); None if it takes none
    rng: str = "CPU"
    sampler_settings: SamplerSettings = SamplerSettings()

    @property
    def batch_size(self) -> int:
        """How many images this batch makes."""
        return len(self.seeds)
