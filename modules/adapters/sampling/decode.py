"""Latents to images with the pipeline's VAE, undoing its latent scaling as diffusers' pipelines do."""
from __future__ import annotations

import numpy as np
import torch


def decode_latents(vae, latents: torch.Tensor) -> np.ndarray:
    """Decode clean latents to float images in [0, 1], shape (B, H, W, 3).

    fp16 VAEs that ask for it (``force_upcast``, e.g. SDXL's) decode in fp32, then go back to fp16.
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
    if upcast:
        vae.to(torch.float32)
    try:
        image = vae.decode(latents.to(vae.device, vae.dtype), return_dict=False)[0]
    finally:
        if upcast:
            vae.to(torch.float16)
    return (image.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
