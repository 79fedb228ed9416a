"""Sigma lists for A1111's schedule types, computed by us (diffusers has flags for only some of them).

Each function returns a float32 tensor of ``steps + 1`` descending sigmas; the last one is 0 except for KL
Optimal, which ends at ``sigma_min`` as in A1111.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from .model_sigmas import ModelSigmas

# NVIDIA's published Align Your Steps 10-step sigma tables (arXiv 2404.14507) for SD 1.5 and SDXL.
AYS_SD15 = (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029)
AYS_SDXL = (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029)


@dataclass(frozen=True)
class ScheduleInputs:
    """What a schedule needs: step count, sigma range, rho (0 = schedule default), the model's table."""

    steps: int
    sigma_min: float
    sigma_max: float
    model: ModelSigmas
    rho: float = 0.0
    sdxl: bool = False
    beta_alpha: float = 0.6
    beta_beta: float = 0.6


def _with_zero(sigmas) -> torch.Tensor:
    sigmas = torch.as_tensor(sigmas, dtype=torch.float32).reshape(-1)
    return torch.cat([sigmas, sigmas.new_zeros(1)])


def karras(p: ScheduleInputs) -> torch.Tensor:
    """Karras et al. (2022): uniform in sigma^(1/rho), rho 7 by default."""
    rho = p.rho or 7.0
    ramp = torch.linspace(0, 1, p.steps, dtype=torch.float64)
    low, high = p.sigma_min ** (1 / rho), p.sigma_max ** (1 / rho)
    return _with_zero((high + ramp * (low - high)) ** rho)


def exponential(p: ScheduleInputs) -> torch.Tensor:
    """Uniform in log-sigma."""
    return _with_zero(torch.linspace(math.log(p.sigma_max), math.log(p.sigma_min), p.steps, dtype=torch.float64).exp())


def polyexponential(p: ScheduleInputs) -> torch.Tensor:
    """Log-sigma following a power of a ramp (rho 1 by default, which is Exponential)."""
    rho = p.rho or 1.0
    ramp = torch.linspace(1, 0, p.steps, dtype=torch.float64) ** rho
    log_min, log_max = math.log(p.sigma_min), math.log(p.sigma_max)
    return _with_zero((ramp * (log_max - log_min) + log_min).exp())


def kl_optimal(p: ScheduleInputs) -> torch.Tensor:
    """Uniform in arctan(sigma) from sigma_max to sigma_min (ends at sigma_min, not 0)."""
    ramp = torch.arange(p.steps + 1, dtype=torch.float64) / p.steps
    low, high = math.atan(p.sigma_min), math.atan(p.sigma_max)
    return torch.tan(ramp * low + (1 - ramp) * high).float()


def align_your_steps(p: ScheduleInputs) -> torch.Tensor:
    """The 10-step AYS table of the family, log-linearly resampled to ``steps`` values, then 0."""
    table = np.array(AYS_SDXL if p.sdxl else AYS_SD15)
    if p.steps == len(table):
        return _with_zero(table)
    if p.steps < 2:  # resampling to one point would keep the smallest sigma; start from the top instead
        return _with_zero(table[:1])
    ys = np.log(table[::-1])
    resampled = np.exp(np.interp(np.linspace(0, 1, p.steps), np.linspace(0, 1, len(table)), ys))[::-1]
    return _with_zero(resampled.copy())


def uniform(p: ScheduleInputs) -> torch.Tensor:
    """Evenly spaced continuous timesteps from the last training timestep to 0."""
    last = len(p.model.sigmas) - 1
    return _with_zero(p.model.t_to_sigma(torch.linspace(last, 0, p.steps)))


def sgm_uniform(p: ScheduleInputs) -> torch.Tensor:
    """Evenly spaced timesteps between sigma_max and sigma_min, dropping the last (SGM's discretisation)."""
    start, end = p.model.sigma_to_t(p.sigma_max), p.model.sigma_to_t(p.sigma_min)
    return _with_zero(p.model.t_to_sigma(torch.linspace(float(start), float(end), p.steps + 1)[:-1]))


def normal(p: ScheduleInputs) -> torch.Tensor:
    """Evenly spaced timesteps between sigma_max and sigma_min, both included."""
    start, end = p.model.sigma_to_t(p.sigma_max), p.model.sigma_to_t(p.sigma_min)
    return _with_zero(p.model.t_to_sigma(torch.linspace(float(start), float(end), p.steps)))


def simple(p: ScheduleInputs) -> torch.Tensor:
    """Every (len / steps)-th training sigma counted from the top."""
    table, stride = p.model.sigmas, len(p.model.sigmas) / p.steps
    return _with_zero([float(table[-(1 + int(i * stride))]) for i in range(p.steps)])


def ddim(p: ScheduleInputs) -> torch.Tensor:
    """DDIM's uniform discretisation: training sigmas 1, 1 + k, 1 + 2k, ... (k = len // steps), descending."""
    table = p.model.sigmas
    stride = max(len(table) // p.steps, 1)
    return _with_zero([float(table[i]) for i in range(1, len(table), stride)][::-1])


def beta(p: ScheduleInputs) -> torch.Tensor:
    """Training sigmas at timesteps spaced by the quantiles of a Beta(alpha, beta) distribution."""
    last = len(p.model.sigmas) - 1
    quantiles = 1 - np.linspace(0, 1, p.steps, endpoint=False)
    indices = np.rint(stats.beta.ppf(quantiles, p.beta_alpha, p.beta_beta) * last).astype(int)
    return _with_zero([float(p.model.sigmas[i]) for i in indices])


SCHEDULE_FUNCTIONS = {
    "uniform": uniform, "karras": karras, "exponential": exponential, "polyexponential": polyexponential,
    "sgm_uniform": sgm_uniform, "kl_optimal": kl_optimal, "align_your_steps": align_your_steps, "simple": simple,
    "normal": normal, "ddim": ddim, "beta": beta,
}


def schedule_sigmas(name: str, inputs: ScheduleInputs) -> torch.Tensor:
    """The sigma list of schedule type ``name`` (an internal name from ``core.samplers.SCHEDULES``)."""
    return SCHEDULE_FUNCTIONS[name](inputs)
