"""Derive diffusers component configs from a checkpoint's tensor shapes, on top of the shipped family configs.

diffusers can read configs from a local folder but cannot size a model from its weights, so the dimensions
that vary between checkpoints of one family (and between real and tiny test checkpoints) are read here from
the shapes; each family's fixed conventions (head sizes, norm groups, activation) come from ``configs/``.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Mapping

from modules.core.model_family import ModelFamily

Shapes = Mapping[str, tuple[int, ...]]
UNET = "model.diffusion_model."
VAE = "first_stage_model."
HEAD_CHANNELS = 64


def _count(shapes: Shapes, prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    return 1 + max((int(m.group(1)) for k in shapes if (m := pattern.match(k))), default=-1)


def _unet_levels(shapes: Shapes) -> list[dict]:
    """Walk ``input_blocks``: resblocks per level, their width, attention and transformer depth."""
    levels, current = [], {"channels": 0, "res": 0, "attn": False, "depth": 1}
    for i in range(1, _count(shapes, UNET + "input_blocks.")):
        block = f"{UNET}input_blocks.{i}."
        if block + "0.op.weight" in shapes:
            levels.append(current)
            current = {"channels": 0, "res": 0, "attn": False, "depth": 1}
            continue
        current["channels"] = shapes[block + "0.out_layers.3.weight"][0]
        current["res"] += 1
        if block + "1.proj_in.weight" in shapes:
            current["attn"] = True
            current["depth"] = _count(shapes, block + "1.transformer_blocks.")
    levels.append(current)
    return levels


def derive_unet(base: dict, shapes: Shapes, family: ModelFamily) -> dict:
    """UNet2DConditionModel config for these weights."""
    levels = _unet_levels(shapes)
    channels = [lv["channels"] for lv in levels]
    attn_key = next(k for k in shapes if k.startswith(UNET) and k.endswith("attn2.to_k.weight"))
    proj_in = next(k for k in shapes if k.startswith(UNET) and k.endswith(".proj_in.weight"))
    config = dict(base)
    config.update(
        in_channels=shapes[UNET + "input_blocks.0.0.weight"][1],
        out_channels=shapes[UNET + "out.2.weight"][0],
        block_out_channels=channels,
        layers_per_block=levels[0]["res"],
        down_block_types=["CrossAttnDownBlock2D" if lv["attn"] else "DownBlock2D" for lv in levels],
        up_block_types=["CrossAttnUpBlock2D" if lv["attn"] else "UpBlock2D" for lv in reversed(levels)],
        cross_attention_dim=shapes[attn_key][1],
        use_linear_projection=len(shapes[proj_in]) == 2,
    )
    if family in (ModelFamily.SD1, ModelFamily.SD1_INPAINT):
        config["attention_head_dim"] = 8  # SD1 convention: 8 heads whatever the width
    else:
        config["attention_head_dim"] = [max(1, c // HEAD_CHANNELS) for c in channels]
    config["transformer_layers_per_block"] = _transformer_depths(shapes, levels)
    if family.is_sdxl:
        _derive_sdxl_embeddings(config, shapes, family)
    return config


def _transformer_depths(shapes: Shapes, levels: list[dict]) -> int | list[int]:
    """Depth per level; diffusers sizes the middle block from the last entry, so a last level without
    attention (whose entry is otherwise unused) carries the middle block's depth."""
    mid = _count(shapes, UNET + "middle_block.1.transformer_blocks.")
    used = {lv["depth"] for lv in levels if lv["attn"]} | {mid}
    if len(used) == 1:
        return mid
    depths = [lv["depth"] if lv["attn"] else 1 for lv in levels[:-1]]
    depths.append(levels[-1]["depth"] if levels[-1]["attn"] else mid)
    if levels[-1]["attn"] and depths[-1] != mid:
        raise ValueError(f"middle block depth {mid} differs from the last level's {depths[-1]}")
    return depths


def _derive_sdxl_embeddings(config: dict, shapes: Shapes, family: ModelFamily) -> None:
    projection_input = shapes[UNET + "label_emb.0.0.weight"][1]
    pooled_key = ("conditioner.embedders.0.model.text_projection" if family is ModelFamily.SDXL_REFINER
                  else "conditioner.embedders.1.model.text_projection")
    pooled = shapes[pooled_key][-1]
    time_ids = 5 if family is ModelFamily.SDXL_REFINER else 6
    config["projection_class_embeddings_input_dim"] = projection_input
    config["addition_time_embed_dim"] = (projection_input - pooled) // time_ids


def vae_prefix(shapes: Shapes) -> str:
    """``first_stage_model.`` inside a checkpoint, ``""`` for a standalone VAE file."""
    return VAE if VAE + "encoder.conv_in.weight" in shapes else ""


def derive_vae(base: dict, shapes: Shapes, prefix: str = VAE) -> dict:
    """AutoencoderKL config for these weights (stored under ``prefix``)."""
    down = prefix + "encoder.down."
    levels = _count(shapes, down)
    config = dict(base)
    config.update(
        in_channels=shapes[prefix + "encoder.conv_in.weight"][1],
        out_channels=shapes[prefix + "decoder.conv_out.weight"][0],
        latent_channels=shapes[prefix + "decoder.conv_in.weight"][1],
        block_out_channels=[shapes[f"{down}{i}.block.0.conv1.weight"][0] for i in range(levels)],
        layers_per_block=_count(shapes, down + "0.block."),
    )
    config["down_block_types"] = ["DownEncoderBlock2D"] * levels
    config["up_block_types"] = ["UpDecoderBlock2D"] * levels
    return config


def derive_clip(base: dict, shapes: Shapes, prefix: str) -> dict:
    """CLIPTextConfig for an HF-layout CLIP text model stored under ``prefix`` (ends with ``text_model.``)."""
    hidden = shapes[prefix + "embeddings.token_embedding.weight"][1]
    config = dict(base)
    config.update(
        hidden_size=hidden, num_attention_heads=max(1, hidden // HEAD_CHANNELS),
        num_hidden_layers=_count(shapes, prefix + "encoder.layers."),
        intermediate_size=shapes[prefix + "encoder.layers.0.mlp.fc1.weight"][0],
        vocab_size=shapes[prefix + "embeddings.token_embedding.weight"][0],
        max_position_embeddings=shapes[prefix + "embeddings.position_embedding.weight"][0],
    )
    return config


def derive_open_clip(base: dict, shapes: Shapes, prefix: str, *, drop_last_layer: bool) -> dict:
    """CLIPTextConfig for an OpenCLIP text tower stored under ``prefix`` (ends with ``model.``)."""
    hidden = shapes[prefix + "token_embedding.weight"][1]
    layers = _count(shapes, prefix + "transformer.resblocks.")
    config = dict(base)
    config.update(
        hidden_size=hidden, num_attention_heads=max(1, hidden // HEAD_CHANNELS),
        num_hidden_layers=layers - 1 if drop_last_layer else layers,
        intermediate_size=shapes[prefix + "transformer.resblocks.0.mlp.c_fc.weight"][0],
        vocab_size=shapes[prefix + "token_embedding.weight"][0],
        max_position_embeddings=shapes[prefix + "positional_embedding"][0],
    )
    if prefix + "text_projection" in shapes and "projection_dim" in base:
        config["projection_dim"] = shapes[prefix + "text_projection"][-1]
    return config


def derive_configs(family: ModelFamily, shapes: Shapes, base_dir: Path) -> dict[str, dict]:
    """Every component config (keyed by subfolder) for a checkpoint of ``family`` with these shapes."""
    def base(name: str) -> dict:
        return json.loads((base_dir / name / "config.json").read_text(encoding="utf-8"))

    configs = {"unet": derive_unet(base("unet"), shapes, family), "vae": derive_vae(base("vae"), shapes)}
    if family in (ModelFamily.SD1, ModelFamily.SD1_INPAINT):
        configs["text_encoder"] = derive_clip(base("text_encoder"), shapes, "cond_stage_model.transformer.text_model.")
    elif family.is_sdxl and family is not ModelFamily.SDXL_REFINER:
        configs["text_encoder"] = derive_clip(
            base("text_encoder"), shapes, "conditioner.embedders.0.transformer.text_model.")
        configs["text_encoder_2"] = derive_open_clip(
            base("text_encoder_2"), shapes, "conditioner.embedders.1.model.", drop_last_layer=False)
    elif family is ModelFamily.SDXL_REFINER:
        configs["text_encoder_2"] = derive_open_clip(
            base("text_encoder_2"), shapes, "conditioner.embedders.0.model.", drop_last_layer=False)
    else:
        configs["text_encoder"] = derive_open_clip(
            base("text_encoder"), shapes, "cond_stage_model.model.", drop_last_layer=True)
    return configs


def write_config_dir(family: ModelFamily, shapes: Shapes, configs_root: Path, dest: Path) -> Path:
    """Copy the shipped ``configs/<family>`` folder to ``dest`` with configs sized for these weights."""
    base_dir = configs_root / family.value
    shutil.copytree(base_dir, dest, dirs_exist_ok=True)
    for name, config in derive_configs(family, shapes, base_dir).items():
        (dest / name / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return dest
