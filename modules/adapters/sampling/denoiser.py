"""Wrap a ModelFn (eps or v output at a diffusers timestep) into a k-diffusion style denoiser D(x, sigma) -> x0.

Ours because diffusers keeps this inside each scheduler's ``step``; our own samplers need it as a function.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .model_sigmas import ModelSigmas
from .types import ModelFn


@dataclass(frozen=True)
class Denoiser:
    """Maps k-diffusion latents ``x = x0 + sigma * noise`` to the model's x0 estimate (guided and uncond)."""

    model: ModelFn
    sigmas: ModelSigmas
    v_prediction: bool = False

    def both(self, x: torch.Tensor, sigma: float, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (guided x0, unconditional x0); the latter equals the guided one when uncond is missing."""
        scale = (sigma ** 2 + 1) ** 0.5
        t = self.sigmas.sigma_to_t(sigma).expand(x.shape[0])
        out = self.model(x / scale, t, step)
        guided = self._to_x0(x, out.guided.float(), sigma, scale)
        uncond = guided if out.uncond is None else self._to_x0(x, out.uncond.float(), sigma, scale)
        return guided, uncond

    def __call__(self, x: torch.Tensor, sigma: float, step: int) -> torch.Tensor:
        """The guided x0 estimate of ``x`` at noise level ``sigma``."""
        return self.both(x, sigma, step)[0]

    def _to_x0(self, x: torch.Tensor, output: torch.Tensor, sigma: float, scale: float) -> torch.Tensor:
        if self.v_prediction:
            # v = alpha * noise - sigma_vp * x0 in VP space; rewritten for k-diffusion latents.
            return x / scale ** 2 - output * sigma / scale
        return x - output * sigma
