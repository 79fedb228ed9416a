"""Tiny upscaler files with random weights: ESRGAN in its real key layouts (original and Real-ESRGAN), SwinIR.

The ESRGAN key names and shapes are written out here from the published layouts, independently of spandrel's
conversion code, so a naming mistake there cannot hide behind the same mistake in the test files.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file


def _conv(out_ch: int, in_ch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    std = (2.0 / (in_ch * 9)) ** 0.5 * 0.5
    return torch.randn(out_ch, in_ch, 3, 3, generator=gen) * std, torch.randn(out_ch, generator=gen) * 0.01


def esrgan_state_dict(*, scale: int = 4, features: int = 4, growth: int = 32, blocks: int = 1,
                      layout: str = "old", seed: int = 0) -> dict[str, torch.Tensor]:
    """An RRDBNet state dict: ``layout`` "old" = ``model.N…`` (ESRGAN), "new" = ``conv_first…`` (Real-ESRGAN)."""
    gen = torch.Generator().manual_seed(seed)
    upsamples = {1: 0, 2: 1, 4: 2, 8: 3}[scale]
    in_channels = 3
    if layout == "new" and scale < 4:  # Real-ESRGAN ×2/×1: pixel-unshuffle the input, then upsample ×4 as usual
        in_channels, upsamples = 3 * (4 // scale) ** 2, 2
    named: list[tuple[str, int, int]] = [("first", features, in_channels)]
    for b in range(blocks):
        for r in range(1, 4):
            for c in range(1, 6):
                named.append((f"body.{b}.{r}.{c}", features if c == 5 else growth, features + (c - 1) * growth))
    named.append(("trunk", features, features))
    named += [(f"up{n + 1}", features, features) for n in range(upsamples)]
    named += [("hr", features, features), ("last", 3, features)]
    state = {}
    for name, out_ch, in_ch in named:
        weight, bias = _conv(out_ch, in_ch, gen)
        key = _old_key(name, blocks, upsamples) if layout == "old" else _new_key(name)
        state[f"{key}.weight"], state[f"{key}.bias"] = weight, bias
    return state


def _old_key(name: str, blocks: int, upsamples: int) -> str:
    if name.startswith("body."):
        _, b, r, c = name.split(".")
        return f"model.1.sub.{b}.RDB{r}.conv{c}.0"
    fixed = {"first": "model.0", "trunk": f"model.1.sub.{blocks}", "hr": f"model.{3 * upsamples + 2}",
             "last": f"model.{3 * upsamples + 4}"}
    if name in fixed:
        return fixed[name]
    return f"model.{3 * int(name[2:])}"  # upsample n sits after an Upsample layer: model.3, model.6, …


def _new_key(name: str) -> str:
    if name.startswith("body."):
        _, b, r, c = name.split(".")
        return f"body.{b}.rdb{r}.conv{c}"
    return {"first": "conv_first", "trunk": "conv_body", "hr": "conv_hr", "last": "conv_last"}.get(name, f"conv_{name}")


def write_esrgan(dest: Path, **options) -> Path:
    """Write a tiny ESRGAN file: ``.pth`` as a weights-only torch pickle, ``.safetensors`` otherwise."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    state = esrgan_state_dict(**options)
    if dest.suffix == ".safetensors":
        save_file(state, str(dest))
    else:
        torch.save(state, dest)
    return dest


def swinir_state_dict(*, scale: int = 2, channels: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    """A tiny SwinIR state dict (spandrel's own module, random weights): an architecture that needs input
    sides of at least 16 pixels."""
    from spandrel.architectures.SwinIR import SwinIR

    with torch.random.fork_rng():  # seed the module's initialisation without touching the global generator
        torch.manual_seed(seed)
        net = SwinIR(upscale=scale, in_chans=channels, img_size=16, window_size=4, embed_dim=12, depths=[1],
                     num_heads=[2], mlp_ratio=1, upsampler="pixelshuffledirect")
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
