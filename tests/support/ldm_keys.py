"""Map diffusers/transformers state dicts to the original (LDM / SGM / OpenCLIP) single-file key names.

Written for the test-suite's tiny checkpoints and for bench/make_full_sd15.py.  Every function takes a
component's state dict (tensors may live on the `meta` device) and returns a new dict whose keys are the
names used inside real `.safetensors`/`.ckpt` single-file checkpoints, *without* the component prefix
(`model.diffusion_model.`, `first_stage_model.`, ...); `add_prefix` puts it on.

Unknown keys raise `KeyError` so a diffusers/transformers rename cannot go unnoticed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch

Tensor = torch.Tensor

_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "time_emb_proj": "emb_layers.1",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "conv_shortcut": "skip_connection",
}
_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0",
    "add_embedding.linear_2": "label_emb.0.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def add_prefix(state: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """Return a copy of `state` with `prefix` prepended to every key."""
    return {prefix + key: value for key, value in state.items()}


def _split_param(key: str) -> tuple[str, str]:
    module, _, param = key.rpartition(".")
    return module, param


def _resnet_name(rest: str) -> str:
    head, _, tail = rest.partition(".")
    if head not in _RESNET:
        raise KeyError(rest)
    return f"{_RESNET[head]}.{tail}"


def unet_key(key: str, config: Mapping) -> str:
    """Return the LDM name (under `model.diffusion_model.`) of one diffusers UNet2DConditionModel key."""
    module, param = _split_param(key)
    if module in _UNET_TOP:
        return f"{_UNET_TOP[module]}.{param}"
    per = config["layers_per_block"] + 1
    m = re.fullmatch(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key)
    if m:
        idx = 1 + int(m[1]) * per + int(m[3])
        if m[2] == "resnets":
            return f"input_blocks.{idx}.0.{_resnet_name(m[4])}"
        return f"input_blocks.{idx}.1.{m[4]}"
    m = re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(\w+)", key)
    if m:
        return f"input_blocks.{(int(m[1]) + 1) * per}.0.op.{m[2]}"
    m = re.fullmatch(r"mid_block\.(resnets|attentions)\.(\d+)\.(.+)", key)
    if m:
        if m[1] == "attentions":
            return f"middle_block.1.{m[3]}"
        return f"middle_block.{2 * int(m[2])}.{_resnet_name(m[3])}"
    m = re.fullmatch(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key)
    if m:
        idx = int(m[1]) * per + int(m[3])
        if m[2] == "resnets":
            return f"output_blocks.{idx}.0.{_resnet_name(m[4])}"
        return f"output_blocks.{idx}.1.{m[4]}"
    m = re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(\w+)", key)
    if m:
        block = int(m[1])
        has_attn = "CrossAttn" in config["up_block_types"][block]
        return f"output_blocks.{block * per + per - 1}.{2 if has_attn else 1}.conv.{m[2]}"
    raise KeyError(key)


def unet_to_ldm(state: Mapping[str, Tensor], config: Mapping) -> dict[str, Tensor]:
    """Return a diffusers UNet state dict under LDM key names (no prefix)."""
    return _renamed(state, lambda k: unet_key(k, config))


def vae_key(key: str, num_levels: int) -> str:
    """Return the LDM name (under `first_stage_model.`) of one diffusers AutoencoderKL key."""
    module, param = _split_param(key)
    if module in ("quant_conv", "post_quant_conv"):
        return key
    side, _, rest = module.partition(".")
    if side not in ("encoder", "decoder"):
        raise KeyError(key)
    simple = {"conv_in": "conv_in", "conv_out": "conv_out", "conv_norm_out": "norm_out"}
    if rest in simple:
        return f"{side}.{simple[rest]}.{param}"
    m = re.fullmatch(r"(down|up)_blocks\.(\d+)\.(resnets\.(\d+)|downsamplers\.0|upsamplers\.0)\.(.+)", rest)
    if m:
        level = int(m[2]) if m[1] == "down" else num_levels - 1 - int(m[2])
        base = f"{side}.{m[1]}.{level}"
        if m[4] is not None:
            sub = "nin_shortcut" if m[5] == "conv_shortcut" else m[5]
            return f"{base}.block.{m[4]}.{sub}.{param}"
        return f"{base}.{m[1]}sample.{m[5]}.{param}"
    m = re.fullmatch(r"mid_block\.resnets\.(\d)\.(.+)", rest)
    if m:
        sub = "nin_shortcut" if m[2] == "conv_shortcut" else m[2]
        return f"{side}.mid.block_{int(m[1]) + 1}.{sub}.{param}"
    m = re.fullmatch(r"mid_block\.attentions\.0\.(.+)", rest)
    if m and m[1] in _VAE_ATTN:
        return f"{side}.mid.attn_1.{_VAE_ATTN[m[1]]}.{param}"
    raise KeyError(key)


def vae_to_ldm(state: Mapping[str, Tensor], config: Mapping) -> dict[str, Tensor]:
    """Return a diffusers AutoencoderKL state dict under LDM names; attention weights become 1x1 convs."""
    levels = len(config["block_out_channels"])
    out = {}
    for key, value in state.items():
        new = vae_key(key, levels)
        if ".mid.attn_1." in new and new.endswith(".weight") and ".norm." not in new and value.ndim == 2:
            value = value.reshape(*value.shape, 1, 1)
        out[new] = value
    return out


def _text_key(key: str) -> str:
    return key.removeprefix("text_model.")


def clip_to_ldm(state: Mapping[str, Tensor], *, with_position_ids: bool = True) -> dict[str, Tensor]:
    """Return a transformers CLIPTextModel state dict under `transformer.text_model.*` names."""
    out = {}
    for key, value in state.items():
        inner = _text_key(key)
        if not inner.startswith(("embeddings.", "encoder.layers.", "final_layer_norm.")):
            raise KeyError(key)
        out[f"transformer.text_model.{inner}"] = value
    if with_position_ids:
        positions = state[_find(state, "embeddings.position_embedding.weight")].shape[0]
        device = next(iter(state.values())).device
        out["transformer.text_model.embeddings.position_ids"] = torch.arange(positions, device=device)[None]
    return out


def _find(state: Mapping[str, Tensor], suffix: str) -> str:
    return next(k for k in state if _text_key(k) == suffix)


_OPENCLIP_LAYER = {
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "self_attn.out_proj": "attn.out_proj",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
}
_OPENCLIP_TOP = {
    "embeddings.token_embedding.weight": "token_embedding.weight",
    "embeddings.position_embedding.weight": "positional_embedding",
    "final_layer_norm.weight": "ln_final.weight",
    "final_layer_norm.bias": "ln_final.bias",
}


def openclip_to_ldm(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Return a transformers CLIP text state dict under OpenCLIP names (q/k/v fused into in_proj)."""
    out: dict[str, Tensor] = {}
    qkv: dict[tuple[int, str], dict[str, Tensor]] = {}
    for key, value in state.items():
        inner = _text_key(key)
        if inner in _OPENCLIP_TOP:
            out[_OPENCLIP_TOP[inner]] = value
            continue
        if inner == "text_projection.weight":
            out["text_projection"] = value.T.contiguous()
            continue
        m = re.fullmatch(r"encoder\.layers\.(\d+)\.(.+)\.(weight|bias)", inner)
        if not m:
            raise KeyError(key)
        layer, module, param = int(m[1]), m[2], m[3]
        qm = re.fullmatch(r"self_attn\.([qkv])_proj", module)
        if qm:
            qkv.setdefault((layer, param), {})[qm[1]] = value
        elif module in _OPENCLIP_LAYER:
            out[f"transformer.resblocks.{layer}.{_OPENCLIP_LAYER[module]}.{param}"] = value
        else:
            raise KeyError(key)
    for (layer, param), parts in qkv.items():
        fused = torch.cat([parts["q"], parts["k"], parts["v"]], dim=0)
        out[f"transformer.resblocks.{layer}.attn.in_proj_{param}"] = fused
    return out


def ldm_schedule_buffers(steps: int = 1000, beta_start: float = 0.00085, beta_end: float = 0.012) -> dict:
    """Return the DDPM schedule buffers an LDM (SD1.x/SD2.x) checkpoint carries at its top level."""
    betas = torch.linspace(math.sqrt(beta_start), math.sqrt(beta_end), steps, dtype=torch.float64) ** 2
    alphas = 1.0 - betas
    cum = torch.cumprod(alphas, dim=0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), cum[:-1]])
    post_var = betas * (1.0 - prev) / (1.0 - cum)
    buffers = {
        "betas": betas,
        "alphas_cumprod": cum,
        "alphas_cumprod_prev": prev,
        "sqrt_alphas_cumprod": cum.sqrt(),
        "sqrt_one_minus_alphas_cumprod": (1.0 - cum).sqrt(),
        "log_one_minus_alphas_cumprod": (1.0 - cum).log(),
        "sqrt_recip_alphas_cumprod": (1.0 / cum).sqrt(),
        "sqrt_recipm1_alphas_cumprod": (1.0 / cum - 1.0).sqrt(),
        "posterior_variance": post_var,
        "posterior_log_variance_clipped": post_var.clamp(min=1e-20).log(),
        "posterior_mean_coef1": betas * prev.sqrt() / (1.0 - cum),
        "posterior_mean_coef2": (1.0 - prev) * alphas.sqrt() / (1.0 - cum),
    }
    return {k: v.to(torch.float32) for k, v in buffers.items()}


def _renamed(state: Mapping[str, Tensor], rename) -> dict[str, Tensor]:
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        new = rename(key)
        if new in out:
            raise KeyError(f"two keys map to {new}")
        out[new] = value
    return out
