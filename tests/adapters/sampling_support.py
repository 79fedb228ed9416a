"""An analytic model for sampler tests: data x0 ~ N(mu, s^2) per value, whose exact denoiser is known."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from modules.adapters.sampling.denoiser import Denoiser
from modules.adapters.sampling.k_common import KRun
from modules.adapters.sampling.k_runner import model_sigmas
from modules.adapters.sampling.noise import NoiseSource
from modules.adapters.sampling.types import DenoiserOutput, SamplerParams

CONFIG = json.loads((Path(__file__).resolve().parents[2] / "configs" / "sd15" / "scheduler" /
                     "scheduler_config.json").read_text("utf-8"))
TABLE = model_sigmas(CONFIG)
MU, S = 0.7, 0.5


class GaussianEps:
    """A ModelFn predicting eps exactly for Gaussian data; counts its evaluations."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x_in, t, step):
        self.calls += 1
        sigma = float(TABLE.t_to_sigma(t[0]))
        x = x_in * (sigma ** 2 + 1) ** 0.5
        x0 = (S ** 2 * x + sigma ** 2 * MU) / (S ** 2 + sigma ** 2)
        return DenoiserOutput(guided=(x - x0) / sigma, uncond=None)


def exact_flow(x_start: torch.Tensor, sigma_start: float, sigma_end: float) -> torch.Tensor:
    """The probability-flow ODE solution for Gaussian data from sigma_start to sigma_end."""
    return MU + ((S ** 2 + sigma_end ** 2) / (S ** 2 + sigma_start ** 2)) ** 0.5 * (x_start - MU)


def make_run(model, steps: int, intervals: int, *, eta: float = 0.0, seed: int = 0, shape=(1, 4, 8, 8),
             reports: list | None = None, **params) -> tuple[KRun, torch.Tensor]:
    """A KRun over the analytic model and unit noise of ``shape`` from ``seed``."""
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    sink = reports if reports is not None else []
    run = KRun(Denoiser(model, TABLE), NoiseSource([torch.Generator().manual_seed(seed + 1)], noise),
               SamplerParams(eta=eta, **params), steps, lambda step, d: sink.append(step), intervals=intervals)
    return run, noise
