"""What our k-diffusion style samplers share: the run context, ancestral step sizes, derivative."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .denoiser import Denoiser
from .noise import NoiseSource
from .types import ProgressFn, SamplerParams


@dataclass
class KRun:
    """One sampling run: denoiser, noise, parameters, and step bookkeeping for ``intervals`` sigma steps."""

    denoiser: Denoiser
    noise: NoiseSource
    params: SamplerParams
    steps: int  # what the user asked for; the sigma list may have a different length
    progress: ProgressFn
    intervals: int = 1

    def user_step(self, i: int) -> int:
        """0-based user step of sigma interval ``i``."""
        return min(self.steps - 1, i * self.steps // max(self.intervals, 1))

    def model(self, x: torch.Tensor, sigma: float, i: int) -> torch.Tensor:
        """Guided x0 estimate during interval ``i``."""
        return self.denoiser(x, sigma, self.user_step(i))

    def done(self, i: int, denoised: torch.Tensor) -> None:
        """Report the end of interval ``i`` (the progress function may raise SamplingInterrupted)."""
        self.progress(min(self.steps, -(-(i + 1) * self.steps // max(self.intervals, 1))), denoised)


def ancestral_step(sigma: float, sigma_next: float, eta: float) -> tuple[float, float]:
    """Split a step to ``sigma_next`` into a deterministic part down to sigma_down and fresh noise sigma_up."""
    if not eta or not sigma_next:
        return sigma_next, 0.0
    up = min(sigma_next, eta * math.sqrt(sigma_next ** 2 * (sigma ** 2 - sigma_next ** 2) / sigma ** 2))
    return math.sqrt(sigma_next ** 2 - up ** 2), up


def to_d(x: torch.Tensor, sigma: float, denoised: torch.Tensor) -> torch.Tensor:
    """The probability-flow ODE derivative dx/dsigma."""
    return (x - denoised) / sigma


def churn(run: KRun, x: torch.Tensor, sigma: float) -> tuple[torch.Tensor, float]:
    """Karras' stochastic churn: raise the noise level to sigma_hat (no-op at s_churn 0)."""
    p = run.params
    gamma = min(p.s_churn / run.intervals, 2 ** 0.5 - 1) if p.s_tmin <= sigma <= p.s_tmax else 0.0
    if gamma <= 0:
        return x, sigma
    sigma_hat = sigma * (gamma + 1)
    return x + run.noise.gaussian() * p.s_noise * math.sqrt(sigma_hat ** 2 - sigma ** 2), sigma_hat
