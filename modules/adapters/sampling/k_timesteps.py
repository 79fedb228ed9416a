"""DDIM, DDIM CFG++ and PLMS written on a sigma list. Ours: diffusers has no CFG++ sampler, and its DDIM and
PNDM schedulers cannot take A1111's schedule types. In k-diffusion latents (x = x0 + sigma * eps) a DDIM step
with eta is exactly an ancestral Euler step whose noise split is DDIM's (same formula as ``ancestral_step``)."""
from __future__ import annotations

import torch

from .k_common import KRun, ancestral_step

# A1111's DDIM CFG++ guides with cfg_scale / 12.5 (CFG++ works with a guidance scale in [0, 1]).
CFGPP_SCALE_DIVISOR = 12.5


def ddim(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """DDIM with eta (``eta_ddim``): x0 estimate plus eps scaled to sigma_down, plus fresh noise sigma_up."""
    for i in range(len(sigmas) - 1):
        denoised = run.model(x, sigmas[i], i)
        x = _ddim_step(run, x, denoised, (x - denoised) / sigmas[i], (sigmas[i], sigmas[i + 1]))
        run.done(i, denoised)
    return x


def ddim_cfgpp(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """DDIM CFG++ (Chung et al. 2024): the guided x0 is re-noised with the unconditional eps."""
    for i in range(len(sigmas) - 1):
        guided, uncond = run.denoiser.both(x, sigmas[i], run.user_step(i))
        denoised = uncond + (guided - uncond) / CFGPP_SCALE_DIVISOR
        x = _ddim_step(run, x, denoised, (x - uncond) / sigmas[i], (sigmas[i], sigmas[i + 1]))
        run.done(i, denoised)
    return x


def _ddim_step(run: KRun, x, denoised, eps, pair: tuple[float, float]) -> torch.Tensor:
    down, up = ancestral_step(pair[0], pair[1], run.params.eta)
    x = denoised + eps * down
    return x + run.noise.gaussian() * up if up else x


def plms(run: KRun, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Pseudo linear multistep (Liu et al. 2022): DDIM steps with an Adams-Bashforth combination of past eps;
    the first step is a pseudo improved-Euler step."""
    history: list[torch.Tensor] = []
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.model(x, sigma, i)
        eps = (x - denoised) / sigma
        if not history and sigma_next > 0:
            x_2 = x + eps * (sigma_next - sigma)
            eps_prime = (eps + (x_2 - run.model(x_2, sigma_next, i)) / sigma_next) / 2
        else:
            eps_prime = _adams_bashforth([eps, *history])
        history = [eps, *history][:3]
        x = x + eps_prime * (sigma_next - sigma)
        run.done(i, x - eps_prime * sigma)
    return x


def _adams_bashforth(eps: list[torch.Tensor]) -> torch.Tensor:
    if len(eps) == 1:
        return eps[0]
    if len(eps) == 2:
        return (3 * eps[0] - eps[1]) / 2
    if len(eps) == 3:
        return (23 * eps[0] - 16 * eps[1] + 5 * eps[2]) / 12
    return (55 * eps[0] - 59 * eps[1] + 37 * eps[2] - 9 * eps[3]) / 24
