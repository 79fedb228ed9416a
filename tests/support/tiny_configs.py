"""Diffusers component configs for the tiny test models, derived from the shipped `configs/` folders.

Each tiny config is the shipped (real, full-size) config with only widths shrunk, so block types, layer
counts, transformer depths, input channels (9 for inpainting), schedulers and pipeline classes stay those
of the real architectures.  Width conventions kept from the real models:
  * SD1.x UNet: 8 attention heads per block; SD2.x / SDXL UNets: 64 channels per head;
  * CLIP / OpenCLIP text encoders: 64 channels per head, vocabulary 49408, 77 positions; width 64 (1 head)
    except OpenCLIP-bigG (SDXL text_encoder_2) at 128 (2 heads): diffusers tells SDXL's two towers apart
    by width (position_embedding width must differ from CLIP-L's), so they must not be equal;
  * VAE: 4 resolutions (8x downsampling), 4 latent channels;
  * the channel pattern of each UNet/VAE keeps "which neighbouring levels differ" as in the real model
    (e.g. SD 320/640/1280/1280 -> 32/64/32/32), so the same `skip_connection`/`nin_shortcut` keys exist.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
FAMILIES = ("sd15", "sd15-inpaint", "sd2", "sd2-v", "sd2-inpaint", "sdxl", "sdxl-inpaint", "sdxl-refiner")
MODEL_PARTS = ("unet", "vae", "text_encoder", "text_encoder_2")
TEXT_WIDTH = {"text_encoder": 64, "text_encoder_2": 128}  # CLIP-L / OpenCLIP-H, OpenCLIP-bigG
TIME_IDS = {"sdxl": 6, "sdxl-inpaint": 6, "sdxl-refiner": 5}  # add_time_ids entries (refiner: aesthetic score)

_UNET_CHANNELS = {
    "sd1": ([32, 64, 32, 32], 8),  # 8 heads, as the real SD1 UNet
    "sd2": ([64, 128, 64, 64], None),  # None: heads = channels / 64
    "sdxl": ([64, 128, 64], None),
    "refiner": ([64, 128, 64, 64], None),
}
_TINY_VAE = {"block_out_channels": [32, 64, 32, 32]}


def kind(family: str) -> str:
    """Return the architecture kind of a family: sd1, sd2, sdxl or refiner."""
    if family == "sdxl-refiner":
        return "refiner"
    return "sdxl" if family.startswith("sdxl") else ("sd2" if family.startswith("sd2") else "sd1")


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")


def shipped_configs(family: str) -> dict[str, dict]:
    """Return the shipped configs of a family: model_index, tokenizers, scheduler and model parts."""
    _check_family(family)
    root = CONFIGS / family
    out = {"model_index": json.loads((root / "model_index.json").read_text()),
           "tokenizers": json.loads((root / "tokenizers.json").read_text()),
           "scheduler": json.loads((root / "scheduler" / "scheduler_config.json").read_text())}
    for part in MODEL_PARTS:
        path = root / part / "config.json"
        if path.is_file():
            out[part] = json.loads(path.read_text())
    return out


def tiny_configs(family: str) -> dict[str, dict]:
    """Return the shipped configs of `family` with every width shrunk to the tiny test size."""
    cfgs = copy.deepcopy(shipped_configs(family))
    channels, heads = _UNET_CHANNELS[kind(family)]
    unet = cfgs["unet"]
    unet["block_out_channels"] = list(channels)
    unet["attention_head_dim"] = heads if heads else [c // 64 for c in channels]
    text_parts = [part for part in ("text_encoder", "text_encoder_2") if part in cfgs]
    for part in text_parts:
        width = TEXT_WIDTH[part]
        cfgs[part].update(hidden_size=width, intermediate_size=4 * width, num_attention_heads=width // 64,
                          projection_dim=width)
    # the UNet attends to the (concatenated) hidden states of all text towers
    unet["cross_attention_dim"] = sum(TEXT_WIDTH[part] for part in text_parts)
    if family in TIME_IDS:  # pooled OpenCLIP-bigG output + Fourier features of the time ids
        pooled = TEXT_WIDTH["text_encoder_2"]
        unet["projection_class_embeddings_input_dim"] = pooled + TIME_IDS[family] * unet["addition_time_embed_dim"]
    cfgs["vae"].update(_TINY_VAE)
    return cfgs


def write_config_dir(dest: Path, cfgs: dict[str, dict]) -> Path:
    """Write a diffusers config folder (same files as the shipped ones) for the given configs."""
    for name, data in cfgs.items():
        if name in ("model_index", "tokenizers"):
            path = dest / f"{name}.json"
        else:
            path = dest / name / ("scheduler_config.json" if name == "scheduler" else "config.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return dest


def source_text_config(family: str, part: str, config: dict) -> tuple[str, dict]:
    """Return (class name, config) of the text tower as it exists in the single file.

    SD2's OpenCLIP-H file holds 24 resblocks and a text projection; diffusers keeps 23 layers and no
    projection, so the source model is built one layer deeper and with a projection.
    """
    config = dict(config)
    if kind(family) == "sd2":
        config["num_hidden_layers"] += 1
        return "CLIPTextModelWithProjection", config
    return config["architectures"][0], config


def instantiate(family: str, cfgs: dict[str, dict], *, device: str = "cpu") -> dict[str, torch.nn.Module]:
    """Instantiate the model parts of a family from configs (on `device`; "meta" allocates nothing)."""
    import transformers
    from diffusers import AutoencoderKL, UNet2DConditionModel

    with torch.device(device):
        parts = {}
        if "unet" in cfgs:
            parts["unet"] = UNet2DConditionModel.from_config(cfgs["unet"])
        if "vae" in cfgs:
            parts["vae"] = AutoencoderKL.from_config(cfgs["vae"])
        for part in ("text_encoder", "text_encoder_2"):
            if part in cfgs:
                cls_name, config = source_text_config(family, part, cfgs[part])
                config = {k: v for k, v in config.items() if k not in ("architectures", "model_type")}
                text_cfg = transformers.CLIPTextConfig(**config)
                parts[part] = getattr(transformers, cls_name)(text_cfg)
    return {name: module.eval() for name, module in parts.items()}


@torch.no_grad()
def randomize_(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Overwrite every parameter with seeded values (fan-in scaled weights, ~1 norm scales, small biases)."""
    for sub in module.modules():
        is_embedding = isinstance(sub, torch.nn.Embedding)
        for name, param in sub.named_parameters(recurse=False):
            noise = torch.randn(param.shape, generator=generator, dtype=torch.float32)
            if is_embedding:
                value = 0.02 * noise
            elif param.ndim >= 2:
                value = noise / math.sqrt(param[0].numel())
            elif name == "bias":
                value = 0.02 * noise
            else:
                value = 1.0 + 0.1 * noise
            param.copy_(value.to(param.dtype))
