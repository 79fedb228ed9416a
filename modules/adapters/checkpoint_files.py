"""Read a checkpoint's tensors safely: safetensors directly, pickles only through torch's weights-only unpickler."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from modules.core.errors import UnsupportedModel

StateDict = dict[str, torch.Tensor]


def read_state_dict(path: Path) -> StateDict:
    """Return the file's tensors; raise UnsupportedModel naming the file if it is unsafe, corrupt or not weights."""
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _read_safetensors(path)
    if suffix in (".ckpt", ".pt", ".pth", ".bin"):
        return _unwrap(_read_pickle(path), path)
    raise UnsupportedModel(f"{path.name}: unsupported checkpoint format '{suffix}'")


def _read_safetensors(path: Path) -> StateDict:
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise UnsupportedModel(f"{path.name}: corrupt or truncated safetensors file ({exc})") from exc


def _read_pickle(path: Path) -> object:
    # weights_only=True uses torch's restricted unpickler: only tensors and plain containers
    # can be built, so a malicious pickle raises instead of running code. Never the unrestricted unpickler.
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as exc:
        raise UnsupportedModel(
            f"{path.name}: refused to load: the pickle contains objects other than weights "
            f"(it may run code). Convert it to .safetensors with a trusted tool or use a .safetensors file.") from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        try:
            return torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as inner:
            raise UnsupportedModel(f"{path.name}: refused to load: the pickle contains objects other than weights") from inner
        except Exception as inner:  # noqa: BLE001 - any failure here means an unreadable file
            raise UnsupportedModel(f"{path.name}: corrupt or unreadable checkpoint ({inner})") from exc


_WRAPPER_KEYS = ("state_dict", "params_ema", "params")  # Lightning/A1111 and Real-ESRGAN (basicsr) wrappers


def _unwrap(data: object, path: Path) -> StateDict:
    while isinstance(data, dict):
        inner = next((data[key] for key in _WRAPPER_KEYS if isinstance(data.get(key), dict)), None)
        if inner is None:
            break
        data = inner
    if not isinstance(data, dict):
        raise UnsupportedModel(f"{path.name}: the file holds no state dict")
    tensors = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise UnsupportedModel(f"{path.name}: the file holds no tensors")
    return tensors


def shapes_of(state_dict: StateDict) -> dict[str, tuple[int, ...]]:
    """Tensor name to shape, the input of the family probe and config derivation."""
    return {k: tuple(v.shape) for k, v in state_dict.items()}


_MODEL_PREFIXES = ("model.diffusion_model.", "first_stage_model.", "cond_stage_model.", "conditioner.")
_HEADER_LIMIT = 100 << 20


def loaded_bytes(path: Path, itemsize: int) -> int:
    """Bytes the model's tensors take once loaded with ``itemsize`` bytes per element (EMA copies and other
    extras are not loaded). Read from the safetensors header; for pickles, the file size is the estimate."""
    if path.suffix.lower() != ".safetensors":
        return path.stat().st_size
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(size)) if 0 < size <= _HEADER_LIMIT else {}
    except (OSError, ValueError):
        return path.stat().st_size
    total = 0
    for key, entry in header.items():
        if key.startswith(_MODEL_PREFIXES) and isinstance(entry, dict):
            count = 1
            for dim in entry.get("shape", ()):
                count *= int(dim)
            total += count * itemsize
    return total or path.stat().st_size
