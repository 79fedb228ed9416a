"""LoRA and textual-inversion test files in real A1111/kohya formats, shaped for the tiny checkpoints.

Public API:
  build_kohya_lora(family, dest, *, rank=4, seed=0, scale=1.0, metadata=None, te=True, sgm_unet=None) -> Path
  build_mismatched_lora(dest, *, seed=0) -> Path          SDXL-shaped kohya LoRA (for loading onto SD1)
  build_embedding(family, dest, *, vectors=2, seed=0, fmt="safetensors") -> Path
  build_wrong_width_embedding(dest, *, vectors=2, seed=0) -> Path   a width no tiny text encoder has
  lora_targets(family, *, sgm_unet=None) -> dict[str, tuple[int, int]]   kohya module name -> (in, out)

kohya naming (sd-scripts `networks/lora.py`): `lora_unet_<module path with _>` for the UNet, `lora_te_…` for the
single SD1/SD2 text encoder, `lora_te1_…`/`lora_te2_…` for SDXL's CLIP-L/OpenCLIP-bigG.  sd-scripts trains SD1/SD2
on a diffusers-layout UNet (`down_blocks_0_attentions_0_…`) and SDXL on the original (SGM) layout
(`input_blocks_4_1_…`); `sgm_unet` picks the UNet spelling, by default the one sd-scripts writes for the family.
Shapes come from the tiny diffusers configs (`tiny_configs`), instantiated on the meta device (no weights).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from .tiny_configs import FAMILIES, instantiate, kind, tiny_configs

UNET_PROJECTIONS = ("to_q", "to_k", "to_v", "to_out.0")
TE_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")
WRONG_WIDTH = 48  # tiny text encoders are 64 (CLIP-L, OpenCLIP-H) and 128 (OpenCLIP-bigG) wide
A1111_TOKEN_ID = 265  # what A1111 writes in string_to_token for "*"


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")


def _te_prefixes(family: str) -> dict[str, str]:
    """Map text-encoder part -> kohya prefix for the family."""
    if kind(family) in ("sdxl", "refiner"):
        prefixes = {"text_encoder": "lora_te1_", "text_encoder_2": "lora_te2_"}
    else:
        prefixes = {"text_encoder": "lora_te_"}
    return {part: prefix for part, prefix in prefixes.items() if part in tiny_configs(family)}


def sgm_block_name(name: str, layers_per_block: int) -> str:
    """Return the original (SGM/LDM) UNet path of a diffusers attention module path.

    >>> sgm_block_name("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", 2)
    'input_blocks.4.1.transformer_blocks.0.attn1.to_q'
    >>> sgm_block_name("mid_block.attentions.0.proj_in", 2)
    'middle_block.1.proj_in'
    >>> sgm_block_name("up_blocks.0.attentions.2.transformer_blocks.1.attn2.to_v", 2)
    'output_blocks.2.1.transformer_blocks.1.attn2.to_v'
    """
    parts = name.split(".")
    if parts[0] == "mid_block" and parts[1] == "attentions":
        return ".".join(["middle_block", "1", *parts[3:]])
    if parts[0] in ("down_blocks", "up_blocks") and parts[2] == "attentions":
        block, layer = int(parts[1]), int(parts[3])
        if parts[0] == "down_blocks":
            head, index = "input_blocks", 1 + block * (layers_per_block + 1) + layer
        else:
            head, index = "output_blocks", block * (layers_per_block + 1) + layer
        return ".".join([head, str(index), "1", *parts[4:]])
    raise ValueError(f"no SGM name for {name!r}")


def _linear_shapes(module: torch.nn.Module, suffixes: tuple[str, ...], keep=lambda name: True):
    """Yield (path, in_features, out_features) of the Linear sub-modules whose path ends with a suffix."""
    for name, sub in module.named_modules():
        if isinstance(sub, torch.nn.Linear) and name.endswith(suffixes) and keep(name):
            yield name, sub.in_features, sub.out_features


def lora_targets(family: str, *, sgm_unet: bool | None = None) -> dict[str, tuple[int, int]]:
    """Return kohya module name -> (in_features, out_features) for the attention projections of `family`."""
    _check_family(family)
    cfgs = tiny_configs(family)
    parts = instantiate(family, cfgs, device="meta")
    sgm = kind(family) in ("sdxl", "refiner") if sgm_unet is None else sgm_unet
    lpb = cfgs["unet"]["layers_per_block"]
    targets = {}
    for name, n_in, n_out in _linear_shapes(parts["unet"], UNET_PROJECTIONS):
        path = sgm_block_name(name, lpb) if sgm else name
        targets["lora_unet_" + path.replace(".", "_")] = (n_in, n_out)
    for part, prefix in _te_prefixes(family).items():
        layers = cfgs[part]["num_hidden_layers"]  # SD2's file tower has one layer more than diffusers keeps

        def kept(name: str, layers: int = layers) -> bool:
            """Return whether a text-model path lies in one of the first `layers` layers."""
            return int(name.split(".layers.")[1].split(".")[0]) < layers

        for name, n_in, n_out in _linear_shapes(parts[part], TE_PROJECTIONS, kept):
            # kohya spells the transformers-4 path (`text_model.encoder…`); transformers 5 drops `text_model`
            path = name if name.startswith("text_model.") else "text_model." + name
            targets[prefix + path.replace(".", "_")] = (n_in, n_out)
    return targets


def _string_metadata(metadata: dict | None) -> dict[str, str] | None:
    """Return safetensors `__metadata__`: strings kept, other values JSON-encoded (as kohya does)."""
    if metadata is None:
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}


def _save(tensors: dict[str, torch.Tensor], dest: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write tensors as .safetensors, creating the folder."""
    from safetensors.torch import save_file

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in sorted(tensors.items())}, str(dest), metadata=metadata)
    return dest


def build_kohya_lora(family: str, dest: Path, *, rank: int = 4, seed: int = 0, scale: float = 1.0,
                     metadata: dict | None = None, te: bool = True, sgm_unet: bool | None = None) -> Path:
    """Write a kohya-format LoRA on the attention projections of the tiny `family` model (alpha = rank)."""
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, (n_in, n_out) in lora_targets(family, sgm_unet=sgm_unet).items():
        if not te and not name.startswith("lora_unet_"):
            continue
        # down ~ 1/sqrt(in), up ~ 1/sqrt(rank): the delta is as large as the tiny base weights themselves
        down = torch.randn(rank, n_in, generator=generator) / n_in ** 0.5
        up = torch.randn(n_out, rank, generator=generator) / rank ** 0.5
        tensors[f"{name}.lora_down.weight"] = down
        tensors[f"{name}.lora_up.weight"] = up * scale
        tensors[f"{name}.alpha"] = torch.tensor(float(rank))
    return _save(tensors, dest, _string_metadata(metadata))


def build_mismatched_lora(dest: Path, *, seed: int = 0) -> Path:
    """Write an SDXL-shaped kohya LoRA (`lora_te1_`/`lora_te2_`, SGM UNet names and widths) to try on SD1."""
    return build_kohya_lora("sdxl", dest, seed=seed)


def _embedding_widths(family: str) -> dict[str, int]:
    """Return embedding key -> text-encoder width for the family (SDXL: clip_l and clip_g)."""
    _check_family(family)
    cfgs = tiny_configs(family)
    if "text_encoder_2" in cfgs and "text_encoder" in cfgs:
        return {"clip_l": cfgs["text_encoder"]["hidden_size"], "clip_g": cfgs["text_encoder_2"]["hidden_size"]}
    part = "text_encoder" if "text_encoder" in cfgs else "text_encoder_2"
    return {"emb_params": cfgs[part]["hidden_size"]}


def _a1111_pt(vectors: torch.Tensor, stem: str, family: str) -> dict:
    """Return the dict A1111's `Embedding.save` writes to a .pt file."""
    return {"string_to_token": {"*": A1111_TOKEN_ID}, "string_to_param": {"*": vectors}, "name": stem,
            "step": 100, "sd_checkpoint": hashlib.sha256(family.encode()).hexdigest()[:10],
            "sd_checkpoint_name": f"tiny-{family}"}


def build_embedding(family: str, dest: Path, *, vectors: int = 2, seed: int = 0, fmt: str = "safetensors") -> Path:
    """Write an A1111 textual-inversion embedding with the tiny `family` text-encoder width(s)."""
    widths = _embedding_widths(family)
    generator = torch.Generator().manual_seed(seed)
    # ~0.02 like the token-embedding table, scaled up so the embedding visibly changes the conditioning
    tensors = {key: 0.1 * torch.randn(vectors, width, generator=generator) for key, width in widths.items()}
    dest = Path(dest)
    if fmt == "safetensors":
        return _save(tensors, dest)
    if fmt != "pt":
        raise ValueError(f"fmt must be 'safetensors' or 'pt', not {fmt!r}")
    if list(tensors) != ["emb_params"]:
        raise ValueError("A1111 .pt embeddings hold one tensor; SDXL embeddings are .safetensors only")
    dest.parent.mkdir(parents=True, exist_ok=True)
    torch.save(_a1111_pt(tensors["emb_params"], dest.stem, family), dest)
    return dest


def build_wrong_width_embedding(dest: Path, *, vectors: int = 2, seed: int = 0) -> Path:
    """Write an `emb_params` embedding whose width fits no tiny text encoder."""
    generator = torch.Generator().manual_seed(seed)
    return _save({"emb_params": 0.1 * torch.randn(vectors, WRONG_WIDTH, generator=generator)}, dest)
