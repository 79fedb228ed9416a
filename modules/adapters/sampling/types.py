"""Types shared by the sampling loop, the samplers and the model (guidance) function."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import torch


@dataclass
class DenoiserOutput:
    """One model evaluation: the CFG-combined output (same parameterisation as the UNet, eps or v) for the
    whole batch, and the unconditional output (CFG++ samplers need it; None when not computed)."""

    guided: torch.Tensor
    uncond: torch.Tensor | None


class ModelFn(Protocol):
    """The model with guidance applied.

    ``x_in``: scheduler-scaled latents (batch B); ``t``: diffusers timesteps, float, shape (B,) (continuous for
    our own samplers); ``step``: the 0-based user step (both evaluations of a second-order step report the same).
    For SDXL the function adds ``added_cond_kwargs`` itself.
    """

    def __call__(self, x_in: torch.Tensor, t: torch.Tensor, step: int) -> DenoiserOutput:
        """Evaluate the model on ``x_in`` at timestep ``t`` during user step ``step``."""


@dataclass(frozen=True)
class SamplerParams:
    """Per-job sampler parameters (A1111 names); eta is the effective one for the sampler."""

    eta: float = 1.0
    s_churn: float = 0.0
    s_tmin: float = 0.0
    s_tmax: float = math.inf
    s_noise: float = 1.0


class SamplingInterrupted(Exception):
    """Raised by the progress callback to stop a sampler; carries the latents to decode."""

    def __init__(self, latents: torch.Tensor):
        super().__init__("sampling interrupted")
        self.latents = latents


# report(step, denoised): called after each completed user step (1-based) with the current x0 estimate.
ProgressFn = Callable[[int, torch.Tensor], None]
