"""Assemble diffusers/transformers components into the state dict of a real single-file checkpoint.

Layouts (as found in real A1111-loadable files):
  SD1.x   model.diffusion_model.*  first_stage_model.*  cond_stage_model.transformer.text_model.*
          + LDM schedule buffers (betas, alphas_cumprod, ...)
  SD2.x   same UNet/VAE prefixes, OpenCLIP-H under cond_stage_model.model.* (24 resblocks, text_projection,
          logit_scale) + LDM schedule buffers
  SDXL    conditioner.embedders.0.transformer.text_model.* (CLIP-L), conditioner.embedders.1.model.*
          (OpenCLIP-bigG with text_projection, logit_scale); UNet with label_emb
  refiner conditioner.embedders.0.model.* (OpenCLIP-bigG) only
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from .ldm_keys import add_prefix, clip_to_ldm, ldm_schedule_buffers, openclip_to_ldm, unet_to_ldm, vae_to_ldm
from .tiny_configs import kind

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
LOGIT_SCALE = math.log(100.0)  # trained OpenCLIP value


def text_prefixes(family: str) -> dict[str, tuple[str, str]]:
    """Return {part: (key prefix, "clip" | "openclip")} for the text towers of a family."""
    k = kind(family)
    if k == "sd1":
        return {"text_encoder": ("cond_stage_model.", "clip")}
    if k == "sd2":
        return {"text_encoder": ("cond_stage_model.model.", "openclip")}
    if k == "refiner":
        return {"text_encoder_2": ("conditioner.embedders.0.model.", "openclip")}
    return {"text_encoder": ("conditioner.embedders.0.", "clip"),
            "text_encoder_2": ("conditioner.embedders.1.model.", "openclip")}


def _scalar(value: float, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float32, device=like.device)


def single_file_state(family: str, parts: Mapping[str, torch.nn.Module], configs: Mapping[str, dict]) -> dict:
    """Return the single-file state dict (original key names) for instantiated model parts."""
    state: dict[str, torch.Tensor] = {}
    state.update(add_prefix(unet_to_ldm(parts["unet"].state_dict(), configs["unet"]), UNET_PREFIX))
    state.update(add_prefix(vae_to_ldm(parts["vae"].state_dict(), configs["vae"]), VAE_PREFIX))
    for part, (prefix, style) in text_prefixes(family).items():
        text_state = parts[part].state_dict()
        if style == "clip":
            state.update(add_prefix(clip_to_ldm(text_state), prefix))
        else:
            mapped = openclip_to_ldm(text_state)
            mapped["logit_scale"] = _scalar(LOGIT_SCALE, next(iter(text_state.values())))
            state.update(add_prefix(mapped, prefix))
    if kind(family) in ("sd1", "sd2"):
        sched = configs["scheduler"]
        buffers = ldm_schedule_buffers(sched["num_train_timesteps"], sched["beta_start"], sched["beta_end"])
        device = next(iter(state.values())).device
        state.update({k: v.to(device) for k, v in buffers.items()})
    return state


def standalone_vae_state(vae: torch.nn.Module, config: Mapping) -> dict:
    """Return a VAE state dict in the layout of standalone `.vae.safetensors` files (no prefix)."""
    return vae_to_ldm(vae.state_dict(), config)
