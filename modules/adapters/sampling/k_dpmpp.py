"""DPM-Solver++ family on a sigma list (Lu et al. 2022, k-diffusion's formulation in t = -log sigma).

Ours: diffusers has no DPM++ 2S a or DPM++ 3M SDE, its DPMSolverSDEScheduler cannot take per-image seeds, and
DPM++ 2M / 2M SDE need a fallback for schedule types their scheduler class cannot express.
"""
from __future__ import annotations

import math

import torch

from .k_common import KRun, ancestral_step, to_d


def _t(sigma: float) -> float:
    return -math.log(sigma)


def _sigma(t: float) -> float:
    return math.exp(-t)


def dpmpp_2s_ancestral(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Single-step second order DPM-Solver++ down to sigma_down, then fresh noise sigma_up."""
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        down, up = ancestral_step(sigmas[i], sigmas[i + 1], run.params.eta)
        if down == 0:
            x = x + to_d(x, sigmas[i], denoised) * (down - sigmas[i])
        else:
            t, t_next = _t(sigmas[i]), _t(down)
            h = t_next - t
            s = t + h / 2
            x_2 = (_sigma(s) / _sigma(t)) * x - math.expm1(-h / 2) * denoised
            denoised_2 = run.model(x_2, _sigma(s), i)
            x = (_sigma(t_next) / _sigma(t)) * x - math.expm1(-h) * denoised_2
        if up:
            x = x + run.noise.gaussian() * run.params.s_noise * up
        run.done(i, denoised)
    return x


def dpmpp_sde(run: KRun, x: torch.Tensor, sigmas: list[float], r: float = 0.5) -> torch.Tensor:
    """DPM-Solver++ (stochastic, second order) with Brownian noise per image."""
    eta, s_noise = run.params.eta, run.params.s_noise
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        if sigmas[i + 1] == 0:
            x = x + to_d(x, sigmas[i], denoised) * (sigmas[i + 1] - sigmas[i])
            run.done(i, denoised)
            continue
        t, t_next = _t(sigmas[i]), _t(sigmas[i + 1])
        h = t_next - t
        s = t + h * r
        down, up = ancestral_step(_sigma(t), _sigma(s), eta)
        s_ = _t(down)
        x_2 = (_sigma(s_) / _sigma(t)) * x - math.expm1(t - s_) * denoised
        x_2 = x_2 + run.noise.brownian(_sigma(t), _sigma(s)) * s_noise * up
        denoised_2 = run.model(x_2, _sigma(s), i)
        down, up = ancestral_step(_sigma(t), _sigma(t_next), eta)
        t_next_ = _t(down)
        fac = 1 / (2 * r)
        mixed = (1 - fac) * denoised + fac * denoised_2
        x = (_sigma(t_next_) / _sigma(t)) * x - math.expm1(t - t_next_) * mixed
        x = x + run.noise.brownian(_sigma(t), _sigma(t_next)) * s_noise * up
        run.done(i, denoised)
    return x


def dpmpp_2m(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Multistep second order DPM-Solver++ (deterministic)."""
    old, h_last = None, None
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        t, t_next = _t(sigmas[i]), (_t(sigmas[i + 1]) if sigmas[i + 1] > 0 else math.inf)
        h = t_next - t
        if old is None or sigmas[i + 1] == 0:
            corrected = denoised
        else:
            r = h_last / h
            corrected = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old
        x = (sigmas[i + 1] / sigmas[i]) * x - (math.expm1(-h) if math.isfinite(h) else -1.0) * corrected
        old, h_last = denoised, h
        run.done(i, denoised)
    return x


def dpmpp_2m_sde(run: KRun, x: torch.Tensor, sigmas: list[float], heun: bool = False) -> torch.Tensor:
    """Multistep second order SDE DPM-Solver++ (midpoint, or Heun with ``heun``) with Brownian noise."""
    eta, old, h_last = run.params.eta, None, None
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        h = None
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            h = _t(sigmas[i + 1]) - _t(sigmas[i])
            eta_h = eta * h
            x = sigmas[i + 1] / sigmas[i] * math.exp(-eta_h) * x - math.expm1(-h - eta_h) * denoised
            if old is not None:
                phi = -math.expm1(-h - eta_h)
                weight = (phi / (-h - eta_h) + 1) if heun else 0.5 * phi
                x = x + weight * (h / h_last) * (denoised - old)
            if eta:
                scale = sigmas[i + 1] * math.sqrt(-math.expm1(-2 * eta_h)) * run.params.s_noise
                x = x + run.noise.brownian(sigmas[i], sigmas[i + 1]) * scale
        old, h_last = denoised, h
        run.done(i, denoised)
    return x


def dpmpp_2m_sde_heun(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """DPM++ 2M SDE with the Heun correction."""
    return dpmpp_2m_sde(run, x, sigmas, heun=True)


def dpmpp_3m_sde(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Multistep third order SDE DPM-Solver++ with Brownian noise."""
    eta, (d_1, d_2), (h_1, h_2) = run.params.eta, (None, None), (None, None)
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        h = None
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            h = _t(sigmas[i + 1]) - _t(sigmas[i])
            h_eta = h * (eta + 1)
            x = math.exp(-h_eta) * x - math.expm1(-h_eta) * denoised
            phi_2 = math.expm1(-h_eta) / h_eta + 1
            if h_2 is not None:
                r0, r1 = h_1 / h, h_2 / h
                d1_0, d1_1 = (denoised - d_1) / r0, (d_1 - d_2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                x = x + phi_2 * d1 - (phi_2 / h_eta - 0.5) * d2
            elif h_1 is not None:
                x = x + phi_2 * (denoised - d_1) / (h_1 / h)
            if eta:
                scale = sigmas[i + 1] * math.sqrt(-math.expm1(-2 * h * eta)) * run.params.s_noise
                x = x + run.noise.brownian(sigmas[i], sigmas[i + 1]) * scale
        d_1, d_2, h_1, h_2 = denoised, d_1, h, h_1
        run.done(i, denoised)
    return x
