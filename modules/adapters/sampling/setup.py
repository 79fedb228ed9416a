"""Everything the loop needs about one job, resolved by the backend."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from modules.core.sampler_settings import SamplerSettings
from modules.core.samplers import SamplerSpec, ScheduleSpec

from .types import SamplerParams


@dataclass(frozen=True)
class SamplingSetup:
    """One job's sampler, schedule (effective), settings, model scheduler config and per-image seeds."""

    sampler: SamplerSpec
    schedule: ScheduleSpec
    steps: int
    seeds: tuple[int, ...]
    scheduler_config: dict
    eta: float | None = None
    settings: SamplerSettings = SamplerSettings()
    sdxl: bool = False
    rng_device: torch.device = torch.device("cpu")
    start: int = 0  # img2img: index in the `steps`-step schedule of the first step that runs

    @property
    def run_steps(self) -> int:
        """The user-visible steps this job runs (all of them for txt2img)."""
        return self.steps - self.start

    @property
    def v_prediction(self) -> bool:
        """Whether the model predicts v (SD2-v) rather than eps."""
        return self.scheduler_config.get("prediction_type") == "v_prediction"

    @property
    def params(self) -> SamplerParams:
        """The numeric parameters our samplers read."""
        s = self.settings
        return SamplerParams(eta=1.0 if self.eta is None else self.eta, s_churn=s.s_churn, s_tmin=s.s_tmin,
                             s_tmax=s.s_tmax_value, s_noise=s.s_noise)
