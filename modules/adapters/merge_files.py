"""Stream a checkpoint merge to a .safetensors file one tensor at a time (inputs read lazily with safe_open).

Peak memory is about one tensor of each input plus the output tensor being written: the header is computed from
the plan first, then every tensor's bytes follow in the same order (the safetensors layout: an 8-byte header
length, the JSON header padded to 8 bytes, then the data with no gaps; wider dtypes first so every tensor starts
at a multiple of its item size, as the safetensors library writes them).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Callable, Protocol

import torch
from safetensors import safe_open

from modules.core.errors import UnsupportedModel
from modules.core.safetensors_header import read_header
from modules.core.merge import ADD_DIFFERENCE, NO_INTERPOLATION, Operation, TensorInfo, TensorStep
from modules.core.merge_service import MergeJob

from .checkpoint_files import converted_copy, read_state_dict

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}


class _Source(Protocol):
    def get_tensor(self, key: str) -> torch.Tensor: ...


class _Loaded:
    """A weights-only-loaded pickle checkpoint behind safe_open's `get_tensor`."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        self._tensors = tensors

    def get_tensor(self, key: str) -> torch.Tensor:
        return self._tensors[key]


def _safetensors(path: Path) -> Path:
    """`path` itself, or the converted copy of a pickle (made once, in a separate process)."""
    return path if path.suffix.lower() == ".safetensors" else converted_copy(path)


def _open(path: Path, stack: contextlib.ExitStack) -> _Source:
    path = _safetensors(path)
    read_header(path)  # a clear message for a damaged file before safe_open maps it
    try:
        return stack.enter_context(safe_open(str(path), framework="pt", device="cpu"))
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types for a bad file
        raise UnsupportedModel(f"{path.name}: corrupt or unreadable safetensors file ({exc})") from exc


class MergeFiles:
    """The merger's tensor reader and streaming writer (the core's `TensorFiles`)."""

    def describe(self, path: Path) -> dict[str, TensorInfo]:
        """Name -> dtype and shape, from the (checked) safetensors header of the file or its converted copy."""
        header = read_header(_safetensors(path))
        return {k: TensorInfo(v["dtype"], tuple(v["shape"])) for k, v in header.items()}

    def write(self, job: MergeJob, dest: Path, on_tensor: Callable[[int], None]) -> None:
        """Write every planned tensor to `dest` in order; raise UnsupportedModel if a tensor is not as planned."""
        with contextlib.ExitStack() as stack:
            sources = {role: _open(path, stack) for role, path in job.sources.items()}
            vae = _Loaded(read_state_dict(job.vae)) if job.vae is not None else None
            steps = sorted(job.steps, key=lambda s: (-DTYPES[s.dtype].itemsize, s.key))  # aligned, as safetensors does
            with open(dest, "wb") as out:
                _write_header(out, steps, job.metadata)
                for done, step in enumerate(steps, start=1):
                    tensor = _tensor(step, job, sources, vae)
                    if tuple(tensor.shape) != step.shape or tensor.dtype != DTYPES[step.dtype]:
                        raise UnsupportedModel(f"{step.key} changed while merging (a file was replaced?)")
                    out.write(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().data)
                    del tensor
                    on_tensor(done)
                out.flush()
                os.fsync(out.fileno())


def _write_header(out, steps: list[TensorStep], metadata: dict[str, str]) -> None:
    header: dict = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for step in steps:
        count = 1
        for dim in step.shape:
            count *= dim
        size = count * DTYPES[step.dtype].itemsize
        header[step.key] = {"dtype": step.dtype, "shape": list(step.shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    out.write(len(raw).to_bytes(8, "little"))
    out.write(raw)


def _tensor(step: TensorStep, job: MergeJob, sources: dict[str, _Source], vae: _Source | None) -> torch.Tensor:
    """The output tensor of one step, in its planned dtype."""
    if step.operation is Operation.VAE:
        tensor = vae.get_tensor(step.source_key)
    elif step.operation is Operation.COPY or job.interp_method == NO_INTERPOLATION:
        tensor = sources["A"].get_tensor(step.key)
    else:
        tensor = _merged(step, job, sources)
    return tensor.to(DTYPES[step.dtype])


def _merged(step: TensorStep, job: MergeJob, sources: dict[str, _Source]) -> torch.Tensor:
    """A·(1−M) + B·M or A + (B − C)·M, in float32 (float64 if an input is), over A's first channels if asked."""
    roles = ("A", "B", "C") if job.interp_method == ADD_DIFFERENCE else ("A", "B")
    tensors = [sources[role].get_tensor(step.key) for role in roles]
    work = torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32
    a, b, *rest = [t.to(work) for t in tensors]
    m = job.multiplier
    if step.operation is Operation.MERGE_CHANNELS:
        a = a.clone()
        a[:, :step.channels] = _formula(a[:, :step.channels], b, rest, m)
        return a
    return _formula(a, b, rest, m)


def _formula(a: torch.Tensor, b: torch.Tensor, rest: list[torch.Tensor], m: float) -> torch.Tensor:
    if rest:
        return a + (b - rest[0]) * m
    return a * (1 - m) + b * m
