"""Inpainting's per-step blend (A1111's CFG denoiser with a mask): the model's x0 estimate keeps the init
latent outside the mask, ``denoised = init * keep + denoised * regenerate``, for every sampler.

Ours as a ModelFn wrapper, so diffusers' schedulers and our own samplers get the same blend: the model sees
VP-scaled latents ``x_in = sqrt(a) x0 + sqrt(1 - a) eps`` at timestep ``t`` (diffusers passes them so, and so
does our Denoiser), which gives x0 from the output; the blended x0 is turned back into the output's kind.
"""
from __future__ import annotations

import torch

from .model_sigmas import ModelSigmas
from .types import DenoiserOutput, ModelFn


class MaskedModel:
    """Implements ``ModelFn``: ``model`` with its guided x0 estimate blended with ``init`` by ``regenerate``."""

    def __init__(self, model: ModelFn, table: ModelSigmas, init: torch.Tensor, regenerate: torch.Tensor, *,
                 v_prediction: bool = False):
        self._model, self._table, self._v = model, table, v_prediction
        self._init, self._regen = init, regenerate

    def __call__(self, x_in: torch.Tensor, t: torch.Tensor, step: int) -> DenoiserOutput:
        """Evaluate the model, then replace the kept area of its x0 estimate with the init latent."""
        out = self._model(x_in, t, step)
        sigma = self._table.t_to_sigma(t.float().cpu()).to(x_in.device).view(-1, 1, 1, 1)
        sqrt_a, sqrt_1ma = 1 / (1 + sigma ** 2).sqrt(), sigma / (1 + sigma ** 2).sqrt()
        guided, x = out.guided.float(), x_in.float()
        if self._v:
            x0 = sqrt_a * x - sqrt_1ma * guided
        else:
            x0 = (x - sqrt_1ma * guided) / sqrt_a
        x0 = self._init.to(x0) + (x0 - self._init.to(x0)) * self._regen.to(x0)
        eps = (x - sqrt_a * x0) / sqrt_1ma
        blended = sqrt_a * eps - sqrt_1ma * x0 if self._v else eps
        return DenoiserOutput(guided=blended.to(out.guided.dtype), uncond=out.uncond)
