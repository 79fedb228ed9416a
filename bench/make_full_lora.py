"""Write a full-size rank-32 kohya-format LoRA for the SD1.5 layout (random fp16 weights), for benchmarks.

Targets, as sd-scripts' `networks/lora.py` writes them for SD1.x (diffusers-layout UNet names):
  * UNet attention projections  `lora_unet_<down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q>` ...
    (to_q, to_k, to_v, to_out.0 of every attn1/attn2: 16 transformer blocks x 2 x 4 = 128 modules)
  * CLIP-L attention projections `lora_te_text_model_encoder_layers_<i>_self_attn_<q|k|v|out>_proj`
    (12 layers x 4 = 48 modules)
each with `.lora_down.weight` (rank x in), `.lora_up.weight` (out x rank) and `.alpha` (= rank).
Module names and shapes come from the shipped `configs/sd15` configs: the diffusers UNet and the
transformers CLIPTextModel are instantiated on the `meta` device (no memory).

Usage:
  HF_HUB_OFFLINE=1 venv/bin/python bench/make_full_lora.py [OUT] [--rank 32] [--seed 0] [--scale 0.1]

Default OUT: bench/.cache/full-lora-r32.safetensors (git-ignored); rank 32 is ~18 MB.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.tiny_configs import instantiate, shipped_configs  # noqa: E402

DEFAULT_RANK = 32
DEFAULT_OUT = REPO / "bench" / ".cache" / f"full-lora-r{DEFAULT_RANK}.safetensors"
UNET_PROJECTIONS = (".to_q", ".to_k", ".to_v", ".to_out.0")
TE_PROJECTIONS = (".q_proj", ".k_proj", ".v_proj", ".out_proj")


def _linears(module: torch.nn.Module, suffixes: tuple[str, ...]):
    """Yield (module path, in_features, out_features) of the Linear layers whose path ends with a suffix."""
    for name, sub in module.named_modules():
        if isinstance(sub, torch.nn.Linear) and name.endswith(suffixes):
            yield name, sub.in_features, sub.out_features


def sd15_lora_targets() -> dict[str, tuple[int, int]]:
    """Return kohya module name -> (in_features, out_features) for the full-size SD1.5 attention projections."""
    configs = shipped_configs("sd15")
    parts = instantiate("sd15", {k: configs[k] for k in ("unet", "text_encoder")}, device="meta")
    targets = {}
    for name, n_in, n_out in _linears(parts["unet"], UNET_PROJECTIONS):
        targets["lora_unet_" + name.replace(".", "_")] = (n_in, n_out)
    for name, n_in, n_out in _linears(parts["text_encoder"], TE_PROJECTIONS):
        # kohya spells the transformers-4 path (`text_model.encoder...`); newer transformers may drop `text_model`
        path = name if name.startswith("text_model.") else "text_model." + name
        targets["lora_te_" + path.replace(".", "_")] = (n_in, n_out)
    return targets


def write_lora(dest: Path, rank: int = DEFAULT_RANK, seed: int = 0, scale: float = 0.1) -> Path:
    """Write the LoRA (fp16, alpha = rank) to `dest` atomically and return its path.

    down ~ N(0, 1/in) and up ~ N(0, 1/rank) * scale, so each layer's delta is about `scale` times
    the size of a fan-in-scaled base weight: a visible but sane change, as a trained LoRA makes.
    """
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, (n_in, n_out) in sorted(sd15_lora_targets().items()):
        down = torch.randn(rank, n_in, generator=generator) / n_in ** 0.5
        up = torch.randn(n_out, rank, generator=generator) * (scale / rank ** 0.5)
        tensors[f"{name}.lora_down.weight"] = down.to(torch.float16)
        tensors[f"{name}.lora_up.weight"] = up.to(torch.float16)
        tensors[f"{name}.alpha"] = torch.tensor(float(rank), dtype=torch.float16)
    metadata = {"ss_network_module": "networks.lora", "ss_network_dim": str(rank), "ss_network_alpha": str(rank),
                "ss_base_model_version": "sd_v1", "ss_output_name": dest.stem}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Write a full-size random rank-r kohya LoRA for SD1.5.")
    parser.add_argument("out", nargs="?", type=Path, default=None,
                        help="default: bench/.cache/full-lora-r<RANK>.safetensors")
    parser.add_argument("--rank", type=int, default=DEFAULT_RANK)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=0.1, help="delta size relative to a base weight")
    args = parser.parse_args(argv)
    out = args.out or REPO / "bench" / ".cache" / f"full-lora-r{args.rank}.safetensors"
    start = time.perf_counter()
    path = write_lora(out, args.rank, args.seed, args.scale)
    modules = len(sd15_lora_targets())
    print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB, {modules} modules, rank {args.rank}) "
          f"in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
