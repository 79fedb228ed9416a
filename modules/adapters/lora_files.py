"""Read a LoRA file into per-layer low-rank factors addressed by the pipeline's own module paths.

diffusers does the format work: ``lora_state_dict`` reads kohya (``lora_unet_*``, ``lora_te*_``, LoCon convs),
old diffusers and PEFT files and renames their keys to module paths, and its ``convert_*`` helpers give the PEFT
spelling (``<module>.lora_A.weight`` / ``lora_B``). We stop there instead of calling ``load_lora_weights``:
wrapping every layer in a PEFT adapter costs ~0.4 s per file on SD1.5 and a little on every UNet call, while
adding ``up @ down`` into the weights (see ``adapters.lora``) costs a few milliseconds per layer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers.utils import convert_state_dict_to_diffusers, convert_state_dict_to_peft, convert_unet_state_dict_to_peft

from .checkpoint_files import read_state_dict

COMPONENTS = ("unet", "text_encoder", "text_encoder_2")
_A, _B = ".lora_A.weight", ".lora_B.weight"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoraLayer:
    """``delta = scale * up @ down`` for one weight; ``up``/``down`` kept in the file's dtype."""

    down: torch.Tensor
    up: torch.Tensor
    scale: float

    def add_to(self, weight_2d: torch.Tensor, multiplier: float) -> None:
        """``weight_2d += multiplier * scale * up @ down`` in one fused step (no full-size temporary);
        ``weight_2d`` is the target weight flattened to (out, in * kh * kw), in float32 or its own dtype."""
        up = self.up.to(weight_2d.dtype).flatten(1)
        down = self.down.to(weight_2d.dtype).flatten(1)
        weight_2d.addmm_(up, down, alpha=multiplier * self.scale)


@dataclass(frozen=True)
class LoraFile:
    """The layers of one file that fit this pipeline, keyed by (component, module path), and what did not fit."""

    layers: dict[tuple[str, str], LoraLayer]
    total: int
    unmatched: int


class LoraMismatch(ValueError):
    """The file was made for another architecture (no layer, or a layer of another shape)."""


def read_lora_file(pipe, path: Path) -> LoraFile:
    """Parse ``path`` for ``pipe``; raise LoraMismatch when it does not fit, ValueError for unknown formats."""
    # unet_config lets diffusers rename SDXL files written with the original (SGM) block names
    # the tensors come from our own reader (header checks; pickles only through the isolated converter), never
    # from a path diffusers would open itself
    state_dict, alphas = pipe.lora_state_dict(read_state_dict(path), unet_config=pipe.unet.config)
    alpha_of = _alphas_by_tensor(state_dict, alphas or {})
    layers: dict[tuple[str, str], LoraLayer] = {}
    total = unmatched = matched_unet = 0
    for component in COMPONENTS:
        part = _peft_keys(state_dict, component, getattr(pipe, component, None))
        for module_path, (down, up) in part.items():
            total += 1
            module = _module(pipe, component, module_path)
            if module is None:
                unmatched += 1
                continue
            matched_unet += component == "unet"
            weight = module.weight
            if up.shape[0] != weight.shape[0] or down[0].numel() != weight[0].numel() \
                    or up[0].numel() != down.shape[0]:
                raise LoraMismatch(f"layer {component}.{module_path} has shape {tuple(weight.shape)} here but "
                                   f"{tuple(up.shape[:1]) + tuple(down.shape[1:])} in the file "
                                   "(is it for another architecture?)")
            rank = down.shape[0]
            scale = alpha_of.get(id(down), float(rank)) / rank
            layers[(component, module_path)] = LoraLayer(down=down, up=up, scale=scale)
    leftovers = _unknown_keys(state_dict)
    if leftovers:
        raise ValueError(f"unsupported LoRA layer type ({leftovers[0]}): only LoRA and LoCon are applied")
    has_unet = any(key.startswith("unet.") for key in state_dict)
    if not layers or (has_unet and not matched_unet):
        raise LoraMismatch("no layer of this model matches the LoRA's keys (is it for another architecture?)")
    return LoraFile(layers=layers, total=total, unmatched=unmatched)


def _alphas_by_tensor(state_dict: dict, alphas: dict) -> dict[int, float]:
    """diffusers names an alpha after its ``down`` tensor (``<down key>.alpha``) or, for LoCon convs, after the
    module (``<module>.alpha`` beside ``<module>.lora.down.weight``). The later key renames keep the tensor
    objects, so the alpha follows its tensor by identity through every rename."""
    found = {}
    for key, alpha in alphas.items():
        stem = key.removesuffix(".alpha")
        for candidate in (stem, stem + ".lora.down.weight", stem + ".lora_A.weight", stem + ".lora_down.weight"):
            tensor = state_dict.get(candidate)
            if tensor is not None:
                found[id(tensor)] = float(alpha)
                break
        else:
            log.warning("LoRA alpha %s has no matching layer; that layer uses scale 1", key)
    return found


def _peft_keys(state_dict: dict, component: str, model) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``module path -> (down, up)`` of one component, in the component's own module naming."""
    prefix = component + "."
    part = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not part:
        return {}
    if component == "unet":
        if not any(_A in key for key in part):
            part = convert_unet_state_dict_to_peft(part)
    else:
        part = convert_state_dict_to_peft(convert_state_dict_to_diffusers(part))
        if model is not None and not hasattr(model, "text_model"):
            part = {k.removeprefix("text_model."): v for k, v in part.items()}
    pairs = {}
    for key, down in part.items():
        if key.endswith(_A) and key[: -len(_A)] + _B in part:
            pairs[key[: -len(_A)]] = (down, part[key[: -len(_A)] + _B])
    return pairs


def _unknown_keys(state_dict: dict) -> list[str]:
    """Keys that are neither LoRA factors nor alphas (DoRA magnitudes, LoHa/LoKr factors, biases)."""
    known = ("lora_A.weight", "lora_B.weight", "lora.down.weight", "lora.up.weight", "lora_down.weight",
             "lora_up.weight", ".alpha")
    return sorted(k for k in state_dict if not k.endswith(known) and "_lora.down." not in k and "_lora.up." not in k)


def _module(pipe, component: str, module_path: str):
    model = getattr(pipe, component, None)
    if model is None:
        return None
    try:
        module = model.get_submodule(module_path)
    except AttributeError:
        return None
    return module if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)) else None
