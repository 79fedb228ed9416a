"""LoRAs as diffusers/PEFT adapters: loaded once, weighted per job, disabled (never subtracted) when unused.

Removing a LoRA only deactivates its adapter, so every layer computes exactly its base weights again
(bit-identical to never having loaded it); nothing is merged into the weights.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class LoraState:
    """Adapters present in one pipeline (name -> (path, mtime, adapter name)), least recently used first."""

    adapters: OrderedDict[str, tuple[Path, int, str]] = field(default_factory=OrderedDict)
    active: tuple[tuple[str, float, float], ...] = ()
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoraWish:
    """A LoRA a job wants, with its text-encoder and UNet weights."""

    name: str
    path: Path
    te_weight: float
    unet_weight: float


def _adapter_name(name: str, path: Path, mtime: int) -> str:
    digest = hashlib.sha1(f"{path}:{mtime}".encode()).hexdigest()[:8]
    return f"lora_{''.join(c if c.isalnum() else '_' for c in name)[:40]}_{digest}"


def _drop(pipe, state: LoraState, name: str) -> None:
    _, _, adapter = state.adapters.pop(name)
    if adapter in {a for names in pipe.get_list_adapters().values() for a in names}:
        pipe.delete_adapters(adapter)


def _load(pipe, state: LoraState, wish: LoraWish) -> str:
    mtime = wish.path.stat().st_mtime_ns
    known = state.adapters.get(wish.name)
    if known is not None and known[:2] == (wish.path, mtime):
        state.adapters.move_to_end(wish.name)
        return known[2]
    state.notes.pop(wish.name, None)
    if known is not None:
        _drop(pipe, state, wish.name)
    adapter = _adapter_name(wish.name, wish.path, mtime)
    state.adapters[wish.name] = (wish.path, mtime, adapter)
    try:
        pipe.load_lora_weights(str(wish.path), adapter_name=adapter)
    except Exception:
        _drop(pipe, state, wish.name)  # leave no half-loaded adapter behind
        raise
    if adapter not in {a for names in pipe.get_list_adapters().values() for a in names}:
        state.adapters.pop(wish.name)
        raise ValueError("no layer of this model matches the LoRA's keys (is it for another architecture?)")
    note = coverage_note(pipe, wish, adapter)
    if note:
        state.notes[wish.name] = note
    return adapter


def _file_modules(path: Path) -> int:
    """How many LoRA layers the file holds (kohya ``lora_down`` or PEFT ``lora_A`` keys), from the header only."""
    if path.suffix.lower() != ".safetensors":
        return 0
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        if size > 100 << 20:
            return 0
        header = json.loads(handle.read(size))
    return sum(1 for key in header if key.endswith((".lora_down.weight", ".lora_A.weight")))


def _matched_modules(pipe, adapter: str) -> int:
    count = 0
    for component in ("unet", "text_encoder", "text_encoder_2"):
        model = getattr(pipe, component, None)
        if model is None:
            continue
        count += sum(1 for m in model.modules() if adapter in getattr(m, "lora_A", {}))
    return count


def coverage_note(pipe, wish: LoraWish, adapter: str) -> str | None:
    """A warning when only part of the file's layers found a place in this model (e.g. an SDXL text encoder 2)."""
    total = _file_modules(wish.path)
    matched = _matched_modules(pipe, adapter)
    if total and matched < total:
        return f"LoRA {wish.name}: {total - matched} of {total} layers do not match this model and were ignored"
    return None


def _weights(pipe, wish: LoraWish) -> dict[str, float]:
    weights = {"unet": wish.unet_weight}
    for component in ("text_encoder", "text_encoder_2"):
        if getattr(pipe, component, None) is not None:
            weights[component] = wish.te_weight
    return weights


def apply_loras(pipe, state: LoraState, wishes: list[LoraWish], *, keep: int) -> tuple[list[str], dict[str, str]]:
    """Activate exactly ``wishes``; return the applied names and name -> reason for those that failed."""
    started = time.perf_counter()
    applied, failed, adapters, weights = [], {}, [], []
    for wish in wishes:
        try:
            adapters.append(_load(pipe, state, wish))
        except Exception as exc:  # noqa: BLE001 - any loader error is reported, generation continues
            failed[wish.name] = str(exc).splitlines()[0][:300]
            continue
        applied.append(wish.name)
        weights.append(_weights(pipe, wish))
    active = tuple((w.name, w.te_weight, w.unet_weight) for w in wishes if w.name in applied)
    if active != state.active:
        if adapters:
            pipe.enable_lora()
            pipe.set_adapters(adapters, adapter_weights=weights)
        elif state.adapters:
            pipe.disable_lora()
        state.active = active
    _evict(pipe, state, keep=max(keep, len(applied)))
    if wishes:
        log.info("LoRA %s applied in %.2fs", ", ".join(applied) or "none", time.perf_counter() - started)
    return applied, failed


def _evict(pipe, state: LoraState, *, keep: int) -> None:
    active = {name for name, _, _ in state.active}
    for name in [n for n in state.adapters if n not in active][: max(0, len(state.adapters) - keep)]:
        _drop(pipe, state, name)
