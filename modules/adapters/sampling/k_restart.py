"""Restart sampling (Xu et al. 2023) as A1111 configures it: Heun steps on a Karras schedule with, from 20 steps
on, segments that jump back up to sigma 2 with fresh noise and descend again. Ours: diffusers has none."""
from __future__ import annotations

import math

import torch

from .k_common import KRun, to_d
from .schedules import ScheduleInputs, karras


def restart_plan(sigmas: list[float]) -> list[tuple[float, float]]:
    """The (from, to) sigma pairs Restart walks for a sigma list: A1111's automatic restart list."""
    steps = len(sigmas) - 1
    if steps < 20:
        return list(zip(sigmas[:-1], sigmas[1:]))
    restart_steps, times = (steps // 4, 2) if steps >= 36 else (9, 1)
    base = karras(ScheduleInputs(steps - restart_steps * times, sigmas[-2], sigmas[0], None)).tolist()  # type: ignore[arg-type]
    at = min(range(len(base)), key=lambda k: abs(base[k] - 0.1))
    top = min(range(len(base)), key=lambda k: abs(base[k] - 2.0))
    pairs: list[tuple[float, float]] = []
    for i in range(len(base) - 1):
        pairs.append((base[i], base[i + 1]))
        if i + 1 == at and top < at:
            segment = karras(ScheduleInputs(restart_steps + 1, base[at], base[top], None)).tolist()[:-1]  # type: ignore[arg-type]
            pairs += list(zip(segment[:-1], segment[1:])) * times
    return pairs


def restart(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Heun steps along ``restart_plan``; a jump back up adds noise to reach the higher sigma."""
    pairs = restart_plan(sigmas)
    run.intervals, last = len(pairs), None
    for i, (sigma, sigma_next) in enumerate(pairs):
        if last is not None and last < sigma:
            x = x + run.noise.gaussian() * run.params.s_noise * math.sqrt(sigma ** 2 - last ** 2)
        denoised = run.model(x, sigma, i)
        d = to_d(x, sigma, denoised)
        if sigma_next == 0:
            x = x + d * (sigma_next - sigma)
        else:
            x_2 = x + d * (sigma_next - sigma)
            x = x + (d + to_d(x_2, sigma_next, run.model(x_2, sigma_next, i))) / 2 * (sigma_next - sigma)
        last = sigma_next
        run.done(i, denoised)
    return x
