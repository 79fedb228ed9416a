"""LoRAs merged into the weights of the layers they touch, with the original weights kept to restore exactly.

For each patched layer we keep a copy of its original weight (on the CPU) and remember which LoRAs at which
multipliers it holds. A job's LoRA set is applied by visiting only the layers whose wanted set differs from what
they hold: each is first reset from its copy (never by subtraction, so nothing drifts), then given the sum of the
wanted deltas. Removing every LoRA therefore restores the base weights bit for bit, a job with the same LoRAs
as the last one costs nothing, and sampling runs at the base model's speed (no adapter layers in the way).

diffusers' own ``fuse_lora``/``unfuse_lora`` subtract on unfuse and cannot unfuse several LoRAs exactly, and its
PEFT adapters (``load_lora_weights``) cost ~0.4 s per file to inject on SD1.5 plus work in every forward pass;
hence this small merger on top of diffusers' file conversion (``adapters.lora_files``).
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .lora_files import LoraFile, read_lora_file

log = logging.getLogger(__name__)

LayerKey = tuple[str, str]                      # (component, module path)
Holding = tuple[tuple[str, int, float], ...]    # (LoRA name, file mtime, multiplier) per LoRA in the layer


@dataclass
class LoraState:
    """Parsed files (least recently used first), original weights of patched layers, and what each layer holds."""

    files: OrderedDict[str, tuple[Path, int, LoraFile]] = field(default_factory=OrderedDict)
    originals: dict[LayerKey, torch.Tensor] = field(default_factory=dict)
    holding: dict[LayerKey, Holding] = field(default_factory=dict)
    active: tuple[tuple[str, float, float], ...] = ()
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoraWish:
    """A LoRA a job wants, with its text-encoder and UNet weights."""

    name: str
    path: Path
    te_weight: float
    unet_weight: float


def _read(pipe, state: LoraState, wish: LoraWish) -> tuple[int, LoraFile]:
    mtime = wish.path.stat().st_mtime_ns
    known = state.files.get(wish.name)
    if known is not None and known[:2] == (wish.path, mtime):
        state.files.move_to_end(wish.name)
        return mtime, known[2]
    state.files.pop(wish.name, None)
    state.notes.pop(wish.name, None)
    parsed = read_lora_file(pipe, wish.path)
    state.files[wish.name] = (wish.path, mtime, parsed)
    if parsed.unmatched:
        state.notes[wish.name] = (f"LoRA {wish.name}: {parsed.unmatched} of {parsed.total} layers do not match "
                                  "this model and were ignored")
    return mtime, parsed


def apply_loras(pipe, state: LoraState, wishes: list[LoraWish], *, keep: int) -> tuple[list[str], dict[str, str]]:
    """Make the weights hold exactly ``wishes``; return the applied names and name -> reason for failures."""
    started = time.perf_counter()
    applied: list[str] = []
    failed: dict[str, str] = {}
    wanted: dict[LayerKey, list[tuple[str, int, float]]] = {}
    for wish in wishes:
        try:
            mtime, parsed = _read(pipe, state, wish)
        except Exception as exc:  # noqa: BLE001 - any reader error is reported, generation continues
            failed[wish.name] = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            continue
        applied.append(wish.name)
        for key in parsed.layers:
            multiplier = wish.unet_weight if key[0] == "unet" else wish.te_weight
            if multiplier != 0:
                wanted.setdefault(key, []).append((wish.name, mtime, float(multiplier)))
    changed = _patch(pipe, state, {key: tuple(held) for key, held in wanted.items()})
    state.active = tuple((w.name, w.te_weight, w.unet_weight) for w in wishes if w.name in applied)
    _evict(state, keep=max(keep, len(applied)))
    if wishes or changed:
        log.info("LoRA %s applied in %.2fs (%d layers changed)", ", ".join(applied) or "none",
                 time.perf_counter() - started, changed)
    return applied, failed


@torch.no_grad()
def _patch(pipe, state: LoraState, wanted: dict[LayerKey, Holding]) -> int:
    """Visit only layers whose holding changes: start again from the original weight (in float32), add each
    wanted LoRA with one fused matmul-add, then store it in the weight's dtype.

    On the CPU the original tensor itself is kept and the layer gets a new one, so apply and restore copy
    nothing; on a GPU the original waits in RAM (VRAM is scarce) and is copied back in place.
    """
    changed = 0
    for key in set(state.holding) | set(wanted):
        target = wanted.get(key, ())
        if state.holding.get(key, ()) == target:
            continue
        weight = pipe_weight(pipe, key)
        on_cpu = weight.device.type == "cpu"
        original = state.originals.get(key)
        if original is None:
            original = weight.data if on_cpu else weight.detach().to("cpu", copy=True)
        if target:
            merged = original.to(weight.device, torch.float32, copy=True)
            for name, _, multiplier in target:
                state.files[name][2].layers[key].add_to(merged.view(merged.shape[0], -1), multiplier)
            if on_cpu:
                weight.data = merged if original.dtype == torch.float32 else merged.to(original.dtype)
            else:
                weight.copy_(merged)
            state.originals[key] = original
            state.holding[key] = target
        else:
            if on_cpu:
                weight.data = original
            else:
                weight.copy_(original)
            state.originals.pop(key, None)
            state.holding.pop(key, None)
        changed += 1
    return changed


def pipe_weight(pipe, key: LayerKey) -> torch.Tensor:
    """The weight tensor of layer ``key`` in ``pipe``."""
    component, module_path = key
    return getattr(pipe, component).get_submodule(module_path).weight


def _evict(state: LoraState, *, keep: int) -> None:
    """Forget parsed files beyond ``keep`` (``lora_in_memory_limit``), never those in use."""
    active = {name for name, _, _ in state.active}
    for name in [n for n in state.files if n not in active][: max(0, len(state.files) - keep)]:
        state.files.pop(name)
