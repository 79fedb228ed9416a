"""Latents to images with the pipeline's VAE, undoing its latent scaling as diffusers' pipelines do."""
from __future__ import annotations

import logging

import numpy as np
import torch

log = logging.getLogger(__name__)


def decode_latents(vae, latents: torch.Tensor) -> np.ndarray:
    """Decode clean latents to float images in [0, 1], shape (B, H, W, 3).

    fp16 VAEs that ask for it (``force_upcast``, e.g. SDXL's) decode in fp32, then go back to fp16. A half-precision
    decode that gives NaN or infinity (the classic black image of fp16 VAEs) is retried once in fp32; a result that
    is still not finite is left for the caller to refuse.
    """
    config = vae.config
    mean, std = getattr(config, "latents_mean", None), getattr(config, "latents_std", None)
    if mean is not None and std is not None:
        shape = (1, -1, 1, 1)
        latents = (latents * torch.tensor(std).view(shape).to(latents) / config.scaling_factor
                   + torch.tensor(mean).view(shape).to(latents))
    else:
        latents = latents / config.scaling_factor + (getattr(config, "shift_factor", None) or 0.0)
    upcast = vae.dtype == torch.float16 and getattr(config, "force_upcast", False)
    image = _decode(vae, latents, torch.float32 if upcast else vae.dtype)
    if not torch.isfinite(image).all() and not upcast and vae.dtype != torch.float32:
        log.warning("The VAE produced NaN/inf values in %s; decoding again in float32 (use --no-half-vae or a "
                    "fixed VAE to avoid the retry)", vae.dtype)
        image = _decode(vae, latents, torch.float32)
    return (image.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()


def _decode(vae, latents: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Decode with the VAE's weights in `dtype`, then give them back their own dtype."""
    own = vae.dtype
    if dtype != own:
        vae.to(dtype)
    try:
        return vae.decode(latents.to(vae.device, dtype), return_dict=False)[0]
    finally:
        if dtype != own:
            vae.to(own)
