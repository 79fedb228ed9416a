"""Build a diffusers pipeline from a single-file state dict and a local config folder, never touching the hub."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import (AutoencoderKL, StableDiffusionPipeline, StableDiffusionXLImg2ImgPipeline,
                       StableDiffusionXLPipeline, UNet2DConditionModel)
# The pipeline-level from_single_file only accepts a file path; we read the file ourselves (safely, once)
# and pass the dict, so the text encoders go through the same helper diffusers uses internally.
from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from modules.core.model_family import ModelFamily

from .checkpoint_files import StateDict


@dataclass(frozen=True)
class ComponentSource:
    """Where a checkpoint's components come from: its tensors, its sized configs and the shipped tokenizers."""

    state: StateDict
    config_dir: Path
    tokenizers_root: Path
    dtype: torch.dtype

    def model(self, cls, name: str):
        """A diffusers model (UNet, VAE) from the single-file weights."""
        return cls.from_single_file(self.state, config=str(self.config_dir), subfolder=name,
                                    local_files_only=True, torch_dtype=self.dtype)

    def text_encoder(self, cls, name: str):
        """A transformers CLIP text model from the single-file weights."""
        return create_diffusers_clip_model_from_ldm(cls, checkpoint=self.state, subfolder=name,
                                                    config=str(self.config_dir), torch_dtype=self.dtype,
                                                    local_files_only=True)

    def tokenizer(self, name: str) -> CLIPTokenizer:
        """Tokenizers ship once under ``configs/tokenizers/``; each family's ``tokenizers.json`` names its own."""
        mapping = json.loads((self.config_dir / "tokenizers.json").read_text(encoding="utf-8"))
        return CLIPTokenizer.from_pretrained(str(self.tokenizers_root / mapping[name]), local_files_only=True)


def load_unet(source: ComponentSource) -> UNet2DConditionModel:
    """The UNet alone (loaded first, so SD2's v-prediction test can run before the rest)."""
    return source.model(UNet2DConditionModel, "unet")


def build_pipeline(family: ModelFamily, source: ComponentSource, unet, scheduler):
    """The pipeline for ``family`` (img2img for the refiner) with every component loaded from ``source``."""
    vae = source.model(AutoencoderKL, "vae")
    if family is ModelFamily.SDXL_REFINER:
        return StableDiffusionXLImg2ImgPipeline(
            vae=vae, unet=unet, scheduler=scheduler, text_encoder=None, tokenizer=None,
            text_encoder_2=source.text_encoder(CLIPTextModelWithProjection, "text_encoder_2"),
            tokenizer_2=source.tokenizer("tokenizer_2"), requires_aesthetics_score=True,
        )
    if family.is_sdxl:
        return StableDiffusionXLPipeline(
            vae=vae, unet=unet, scheduler=scheduler,
            text_encoder=source.text_encoder(CLIPTextModel, "text_encoder"),
            tokenizer=source.tokenizer("tokenizer"),
            text_encoder_2=source.text_encoder(CLIPTextModelWithProjection, "text_encoder_2"),
            tokenizer_2=source.tokenizer("tokenizer_2"),
        )
    return StableDiffusionPipeline(
        vae=vae, unet=unet, scheduler=scheduler,
        text_encoder=source.text_encoder(CLIPTextModel, "text_encoder"),
        tokenizer=source.tokenizer("tokenizer"),
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
