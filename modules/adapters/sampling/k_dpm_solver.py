"""DPM fast and DPM adaptive: DPM-Solver (Lu et al. 2022) of orders 1-3 in t = -log sigma, integrating from
sigma_max to sigma_min (the result keeps sigma_min's noise, as in A1111). Ours: diffusers has neither."""
from __future__ import annotations

import math

import torch

from .k_common import KRun, ancestral_step

MAX_ADAPTIVE_EVALUATIONS = 600  # DPM adaptive ignores the step count; this bounds a run that never settles


class _Solver:
    """Model evaluations as eps(x, t), cached per step (the higher orders reuse the lower orders' points)."""

    def __init__(self, run: KRun):
        self.run, self.step, self.evaluations = run, 0, 0

    def eps(self, cache: dict, key: str, x: torch.Tensor, t: float) -> torch.Tensor:
        if key not in cache:
            sigma = math.exp(-t)
            cache[key] = (x - self.run.denoiser(x, sigma, self.step)) / sigma
            self.evaluations += 1
        return cache[key]

    def order_1(self, x, t, t_next, cache):
        h = t_next - t
        return x - math.exp(-t_next) * math.expm1(h) * self.eps(cache, "eps", x, t)

    def order_2(self, x, t, t_next, cache, r1=0.5):
        h, eps = t_next - t, self.eps(cache, "eps", x, t)
        s1 = t + r1 * h
        u1 = x - math.exp(-s1) * math.expm1(r1 * h) * eps
        eps_r1 = self.eps(cache, "eps_r1", u1, s1)
        return (x - math.exp(-t_next) * math.expm1(h) * eps
                - math.exp(-t_next) / (2 * r1) * math.expm1(h) * (eps_r1 - eps))

    def order_3(self, x, t, t_next, cache, r1=1 / 3, r2=2 / 3):
        h, eps = t_next - t, self.eps(cache, "eps", x, t)
        s1, s2 = t + r1 * h, t + r2 * h
        u1 = x - math.exp(-s1) * math.expm1(r1 * h) * eps
        eps_r1 = self.eps(cache, "eps_r1", u1, s1)
        u2 = (x - math.exp(-s2) * math.expm1(r2 * h) * eps
              - math.exp(-s2) * (r2 / r1) * (math.expm1(r2 * h) / (r2 * h) - 1) * (eps_r1 - eps))
        eps_r2 = self.eps(cache, "eps_r2", u2, s2)
        return (x - math.exp(-t_next) * math.expm1(h) * eps
                - math.exp(-t_next) / r2 * (math.expm1(h) / h - 1) * (eps_r2 - eps))

    def noise_split(self, t: float, t_next: float, t_end: float) -> tuple[float, float]:
        """Where the deterministic part ends (t) and the noise to add, for ancestral eta."""
        eta = self.run.params.eta
        if not eta:
            return t_next, 0.0
        down, _ = ancestral_step(math.exp(-t), math.exp(-t_next), eta)
        t_det = min(t_end, -math.log(down))
        return t_det, math.sqrt(max(math.exp(-2 * t_next) - math.exp(-2 * t_det), 0.0))


def dpm_fast_orders(evaluations: int) -> list[int]:
    """Orders of the DPM fast steps for a budget of ``evaluations`` model calls (their sum)."""
    m = evaluations // 3 + 1
    if evaluations % 3 == 0:
        return [3] * (m - 2) + [2, 1]
    return [3] * (m - 1) + [evaluations % 3]


def dpm_fast(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Fixed-budget DPM-Solver: ``steps`` evaluations spread over steps of order 3, 2 and 1, uniform in t."""
    solver, sigma_min, sigma_max = _Solver(run), min(s for s in sigmas if s > 0), max(sigmas)
    orders = dpm_fast_orders(run.steps)
    t_start, t_end = -math.log(sigma_max), -math.log(sigma_min)
    ts = [t_start + (t_end - t_start) * k / len(orders) for k in range(len(orders) + 1)]
    for i, order in enumerate(orders):
        solver.step = min(solver.evaluations, run.steps - 1)
        t_det, up = solver.noise_split(ts[i], ts[i + 1], t_end)
        cache: dict = {}
        x = (solver.order_1, solver.order_2, solver.order_3)[order - 1](x, ts[i], t_det, cache)
        if up:
            x = x + run.noise.gaussian() * run.params.s_noise * up
        run.progress(min(run.steps, solver.evaluations), x - math.exp(-ts[i]) * cache["eps"])
    return x


def dpm_adaptive(run: KRun, x: torch.Tensor, sigmas: list[float], rtol: float = 0.05,
                 atol: float = 0.0078, h_init: float = 0.05, safety: float = 0.81) -> torch.Tensor:
    """Adaptive order-3 DPM-Solver with an embedded order-2 error estimate and an integral step controller.

    The step count is ignored; progress is the covered share of log-sigma mapped onto the user's steps.
    """
    solver, sigma_min, sigma_max = _Solver(run), min(s for s in sigmas if s > 0), max(sigmas)
    t, t_end = -math.log(sigma_max), -math.log(sigma_min)
    t_start, h, x_prev, reported = t, h_init, x, 0
    exponent_order = 1.5 if run.params.eta else 3.0
    while t < t_end - 1e-5:
        t_next = min(t_end, t + h)
        if solver.evaluations + 3 > MAX_ADAPTIVE_EVALUATIONS:
            t_next = t_end  # budget spent: one last step to the end, accepted whatever its error
        t_det, up = solver.noise_split(t, t_next, t_end)
        solver.step = min(run.steps - 1, reported)
        cache: dict = {}
        x_low = solver.order_2(x, t, t_det, cache, r1=1 / 3)
        x_high = solver.order_3(x, t, t_det, cache)
        delta = torch.maximum(torch.full_like(x, atol), rtol * torch.maximum(x_low.abs(), x_prev.abs()))
        error = float(torch.linalg.norm((x_low - x_high) / delta)) / x.numel() ** 0.5
        # Integral controller on the inverse error (order 1.5 with noise), limited so h changes gently.
        factor = 1 + math.atan((1 / (error + 1e-8)) ** (1 / exponent_order) - 1)
        if factor >= safety or t_next == t_end:
            denoised = x - math.exp(-t) * cache["eps"]
            x_prev, x, t = x_low, x_high, t_next
            if up:
                x = x + run.noise.gaussian() * run.params.s_noise * up
            reported = max(reported, min(run.steps, int(run.steps * (t - t_start) / (t_end - t_start))))
            run.progress(reported, denoised)
        h *= factor
    return x
