"""Euler, Euler a, Heun, DPM2, DPM2 a, LMS and LCM on a sigma list (Karras et al. 2022; k-diffusion's
formulation). Ours: used where diffusers' schedulers cannot take the schedule type or setting (see
``core.sampler_settings.choose_runner``), and for DPM2/DPM2 a, which A1111 runs with the penultimate sigma dropped."""
from __future__ import annotations

import math

import numpy as np
import torch

from .k_common import KRun, ancestral_step, churn, to_d


def euler(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """First-order probability-flow ODE steps, with optional churn."""
    for i in range(len(sigmas) - 1):
        x, sigma_hat = churn(run, x, sigmas[i])
        denoised = run.model(x, sigma_hat, i)
        x = x + to_d(x, sigma_hat, denoised) * (sigmas[i + 1] - sigma_hat)
        run.done(i, denoised)
    return x


def euler_ancestral(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Euler down to sigma_down, then fresh noise sigma_up (eta from the run parameters)."""
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        down, up = ancestral_step(sigmas[i], sigmas[i + 1], run.params.eta)
        x = x + to_d(x, sigmas[i], denoised) * (down - sigmas[i])
        if up:
            x = x + run.noise.gaussian() * run.params.s_noise * up
        run.done(i, denoised)
    return x


def heun(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Second-order (trapezoidal) steps; the last step to sigma 0 is Euler."""
    for i in range(len(sigmas) - 1):
        x, sigma_hat = churn(run, x, sigmas[i])
        denoised = run.model(x, sigma_hat, i)
        d = to_d(x, sigma_hat, denoised)
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            d_2 = to_d(x_2, sigmas[i + 1], run.model(x_2, sigmas[i + 1], i))
            x = x + (d + d_2) / 2 * dt
        run.done(i, denoised)
    return x


def _midpoint(a: float, b: float) -> float:
    return math.exp((math.log(a) + math.log(b)) / 2)


def dpm_2(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """DPM-Solver-2 style midpoint steps in log-sigma, with optional churn."""
    for i in range(len(sigmas) - 1):
        x, sigma_hat = churn(run, x, sigmas[i])
        denoised = run.model(x, sigma_hat, i)
        d = to_d(x, sigma_hat, denoised)
        if sigmas[i + 1] == 0:
            x = x + d * (sigmas[i + 1] - sigma_hat)
        else:
            mid = _midpoint(sigma_hat, sigmas[i + 1])
            x_2 = x + d * (mid - sigma_hat)
            d_2 = to_d(x_2, mid, run.model(x_2, mid, i))
            x = x + d_2 * (sigmas[i + 1] - sigma_hat)
        run.done(i, denoised)
    return x


def dpm_2_ancestral(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """The midpoint step down to sigma_down, then fresh noise sigma_up."""
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        down, up = ancestral_step(sigmas[i], sigmas[i + 1], run.params.eta)
        d = to_d(x, sigmas[i], denoised)
        if down == 0:
            x = x + d * (down - sigmas[i])
        else:
            mid = _midpoint(sigmas[i], down)
            x_2 = x + d * (mid - sigmas[i])
            x = x + to_d(x_2, mid, run.model(x_2, mid, i)) * (down - sigmas[i])
        if up:
            x = x + run.noise.gaussian() * run.params.s_noise * up
        run.done(i, denoised)
    return x


def lms_coefficient(sigmas: list[float], order: int, i: int, j: int) -> float:
    """Integral over [sigma_i, sigma_i+1] of the Lagrange basis polynomial j through the last ``order`` sigmas."""
    nodes = [sigmas[i - k] for k in range(order)]
    basis = np.poly1d([1.0])
    for k in range(order):
        if k != j:
            basis *= np.poly1d([1.0, -nodes[k]]) / (nodes[j] - nodes[k])
    integral = basis.integ()
    return float(integral(sigmas[i + 1]) - integral(sigmas[i]))


def lms(run: KRun, x: torch.Tensor, sigmas: list[float], order: int = 4) -> torch.Tensor:
    """Linear multistep: integrate the polynomial through the last ``order`` derivatives exactly."""
    history: list[torch.Tensor] = []
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        history = [to_d(x, sigmas[i], denoised), *history][:order]
        current = min(i + 1, order)
        x = x + sum(lms_coefficient(sigmas, current, i, j) * d for j, d in enumerate(history[:current]))
        run.done(i, denoised)
    return x


def lcm(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Latent consistency sampling: jump to the x0 estimate, then re-noise to the next sigma."""
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        x = denoised
        if sigmas[i + 1] > 0:
            x = x + run.noise.gaussian() * sigmas[i + 1]
        run.done(i, denoised)
    return x
