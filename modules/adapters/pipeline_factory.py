"""Build a diffusers pipeline from a single-file state dict and a local config folder, never touching the hub."""
from __future__ import annotations

from pathlib import Path

import torch
from diffusers import (AutoencoderKL, StableDiffusionPipeline, StableDiffusionXLPipeline,
                       UNet2DConditionModel)
# The pipeline-level from_single_file only accepts a file path; we read the file ourselves (safely, once)
# and pass the dict, so the text encoders go through the same helper diffusers uses internally.
from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from modules.core.model_family import ModelFamily

from .checkpoint_files import StateDict


def _model(cls, state: StateDict, config_dir: Path, name: str, dtype: torch.dtype):
    return cls.from_single_file(state, config=str(config_dir), subfolder=name, local_files_only=True,
                                torch_dtype=dtype)


def _text_encoder(cls, state: StateDict, config_dir: Path, name: str, dtype: torch.dtype):
    return create_diffusers_clip_model_from_ldm(cls, checkpoint=state, subfolder=name, config=str(config_dir),
                                                torch_dtype=dtype, local_files_only=True)


def _tokenizer(config_dir: Path, name: str) -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(str(config_dir / name), local_files_only=True)


def load_unet(state: StateDict, config_dir: Path, dtype: torch.dtype) -> UNet2DConditionModel:
    """The UNet alone (used first, so SD2's v-prediction test can run before the rest loads)."""
    return _model(UNet2DConditionModel, state, config_dir, "unet", dtype)


def build_pipeline(family: ModelFamily, state: StateDict, config_dir: Path, unet, dtype: torch.dtype, scheduler):
    """A txt2img pipeline for ``family`` with every component loaded from ``state``."""
    vae = _model(AutoencoderKL, state, config_dir, "vae", dtype)
    if family.is_sdxl:
        return StableDiffusionXLPipeline(
            vae=vae, unet=unet, scheduler=scheduler,
            text_encoder=_text_encoder(CLIPTextModel, state, config_dir, "text_encoder", dtype),
            tokenizer=_tokenizer(config_dir, "tokenizer"),
            text_encoder_2=_text_encoder(CLIPTextModelWithProjection, state, config_dir, "text_encoder_2", dtype),
            tokenizer_2=_tokenizer(config_dir, "tokenizer_2"),
        )
    return StableDiffusionPipeline(
        vae=vae, unet=unet, scheduler=scheduler,
        text_encoder=_text_encoder(CLIPTextModel, state, config_dir, "text_encoder", dtype),
        tokenizer=_tokenizer(config_dir, "tokenizer"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


@torch.no_grad()
def unet_predicts_v(unet: UNet2DConditionModel) -> bool:
    """A1111's SD2 test: at t=999 on a constant input, a v-prediction UNet's output mean lies far below the input."""
    param = next(unet.parameters())
    context = torch.full((1, 2, unet.config.cross_attention_dim), 0.5, device=param.device, dtype=param.dtype)
    x = torch.full((1, unet.config.in_channels, 8, 8), 0.5, device=param.device, dtype=param.dtype)
    out = unet(x, torch.tensor([999], device=param.device), encoder_hidden_states=context).sample
    return (out.float() - x.float()).mean().item() < -1
