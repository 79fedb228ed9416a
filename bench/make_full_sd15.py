"""Write a full-size SD1.5-layout single-file checkpoint with seeded random weights, for benchmarks.

The layout (key names and shapes) comes from the shipped `configs/sd15` folder: the diffusers components
are built on the `meta` device (no memory) and mapped to the original key names with the test-suite's key
mapping (tests/support/ldm_keys.py).  The .safetensors file is then streamed tensor by tensor -- each
tensor is generated, written and dropped -- so memory stays at one tensor (~150 MB), not the 2 GB file.

Usage:
  HF_HUB_OFFLINE=1 venv/bin/python bench/make_full_sd15.py [OUT] [--dtype fp16|fp32] [--seed N] [--verify]

Default OUT: bench/.cache/full-sd15.safetensors (git-ignored).  fp16 is ~2.1 GB, fp32 ~4.3 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.ldm_keys import ldm_schedule_buffers
from tests.support.single_file_layout import single_file_state
from tests.support.tiny_configs import instantiate, shipped_configs

DEFAULT_OUT = REPO / "bench" / ".cache" / "full-sd15.safetensors"
DTYPES = {"fp16": (torch.float16, "F16"), "fp32": (torch.float32, "F32")}
EXACT_DTYPES = {torch.int64: "I64", torch.float32: "F32"}


def sd15_layout() -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Return {original key: (shape, dtype)} of a real SD1.5 checkpoint, computed on the meta device."""
    configs = shipped_configs("sd15")
    parts = instantiate("sd15", configs, device="meta")
    return {key: (tuple(t.shape), t.dtype) for key, t in single_file_state("sd15", parts, configs).items()}


def exact_values() -> dict[str, torch.Tensor]:
    """Return the tensors whose values are not random: LDM schedule buffers and CLIP position ids."""
    sched = shipped_configs("sd15")["scheduler"]
    values = ldm_schedule_buffers(sched["num_train_timesteps"], sched["beta_start"], sched["beta_end"])
    values["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(77)[None]
    return values


def random_tensor(key: str, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Return seeded values scaled like a trained net (fan-in weights, ~1 norm scales, small biases)."""
    noise = torch.randn(shape, generator=generator, dtype=torch.float32)
    if key.endswith(("token_embedding.weight", "position_embedding.weight")):
        return noise.mul_(0.02)
    if len(shape) >= 2:
        return noise.div_(math.sqrt(math.prod(shape[1:])))
    if key.endswith("bias"):
        return noise.mul_(0.02)
    return noise.mul_(0.1).add_(1.0)


def _header(layout: dict, float_code: str, exact_keys: set[str]) -> tuple[bytes, list[tuple[str, str]]]:
    """Return the padded safetensors header and the (key, dtype code) write order."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    order, offset = [], 0
    sizes = {"F16": 2, "F32": 4, "I64": 8}
    for key in sorted(layout):
        shape, dtype = layout[key]
        code = EXACT_DTYPES[dtype] if key in exact_keys else float_code
        nbytes = math.prod(shape) * sizes[code]
        header[key] = {"dtype": code, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        order.append((key, code))
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw, order


def write_checkpoint(dest: Path, dtype_name: str = "fp16", seed: int = 0) -> Path:
    """Stream a full-size random SD1.5 checkpoint to `dest` (atomically) and return its path."""
    float_dtype, float_code = DTYPES[dtype_name]
    layout = sd15_layout()
    exact = exact_values()
    for key, (shape, dtype) in layout.items():
        if key in exact and (tuple(exact[key].shape) != shape or exact[key].dtype != dtype):
            raise ValueError(f"{key}: unexpected layout {shape} {dtype}")
    header, order = _header(layout, float_code, set(exact))
    generator = torch.Generator().manual_seed(seed)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    with open(tmp, "wb") as fh:
        fh.write(header)
        for key, code in order:
            if key in exact:
                tensor = exact[key]
            else:
                tensor = random_tensor(key, layout[key][0], generator).to(float_dtype)
            fh.write(tensor.contiguous().view(torch.uint8).numpy().tobytes())
            del tensor
    os.replace(tmp, dest)
    return dest


def verify(path: Path) -> None:
    """Load the file with diffusers exactly as the app does (offline, shipped config, explicit tokenizer)."""
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(str(REPO / "configs" / "tokenizers" / "clip-l"), local_files_only=True)
    pipe = StableDiffusionPipeline.from_single_file(str(path), config=str(REPO / "configs" / "sd15"),
                                                    local_files_only=True, tokenizer=tokenizer)
    params = sum(p.numel() for m in (pipe.unet, pipe.vae, pipe.text_encoder) for p in m.parameters())
    print(f"verified: diffusers loaded {params / 1e6:.0f}M parameters")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Write a full-size random SD1.5 checkpoint.")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp16")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verify", action="store_true", help="load the result with from_single_file")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    path = write_checkpoint(args.out, args.dtype, args.seed)
    print(f"wrote {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - start:.1f}s")
    if args.verify:
        verify(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
