"""Read a model file's tensors safely: safetensors after a header check, pickles only through a converted copy."""
from __future__ import annotations

import glob
import logging
import math
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from modules.core.errors import InvalidModelFile, UnsupportedModel
from modules.core.safetensors_header import read_header

from .pickle_converter import ConversionFailed, convert_isolated

log = logging.getLogger(__name__)
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
CONVERTED_FOLDER = ".converted"

StateDict = dict[str, torch.Tensor]


def read_state_dict(path: Path) -> StateDict:
    """Return the file's tensors; raise UnsupportedModel naming the file if it is unsafe, corrupt or not weights.
    Pickles are never unpickled here: they are converted once in a separate process (see pickle_converter)."""
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _unwrap(_read_safetensors(path), path)
    if suffix in PICKLE_SUFFIXES:
        return _unwrap(_read_safetensors(converted_copy(path)), path)
    raise UnsupportedModel(f"{path.name}: unsupported model format '{suffix}'")


def _read_safetensors(path: Path) -> StateDict:
    read_header(path)  # bounds and consistency first: a clear message for every kind of damage
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise InvalidModelFile(f"invalid model file: {path.name}: corrupt or truncated ({exc})") from exc


def converted_copy(path: Path) -> Path:
    """The ``.safetensors`` twin of a pickle, made once by the isolated converter and kept in a hidden
    ``.converted`` folder beside it (catalogs skip hidden folders); a changed pickle gets a new twin."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise InvalidModelFile(f"invalid model file: {path.name}: cannot read it ({exc.strerror or exc})") from exc
    folder = path.parent / CONVERTED_FOLDER
    target = folder / f"{path.name}.{stat.st_size}-{stat.st_mtime_ns}.safetensors"
    if target.exists():
        return target
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise UnsupportedModel(f"{path.name}: a pickle model is converted to .safetensors before use, but "
                               f"{folder} cannot be created ({exc.strerror or exc})") from exc
    for stale in folder.glob(f"{glob.escape(path.name)}.*.safetensors"):
        stale.unlink(missing_ok=True)  # the twin of an older version of the same file
    log.info("Converting %s to .safetensors in a separate process (once; pickles are never loaded directly)",
             path.name)
    try:
        convert_isolated(path, target)
    except ConversionFailed as exc:
        hint = " (use a .safetensors file from a source you trust)" if exc.refused else ""
        raise UnsupportedModel(f"{exc}{hint}") from exc
    return target


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
def loaded_bytes(path: Path, itemsize: int) -> int:
    """Bytes the model's tensors take once loaded with ``itemsize`` bytes per element (EMA copies and other
    extras are not loaded). Read from the safetensors header; for pickles (and damaged files, refused at load
    anyway), the file size is the estimate."""
    try:
        header = read_header(path) if path.suffix.lower() == ".safetensors" else {}
    except InvalidModelFile:
        header = {}
    total = sum(math.prod(entry["shape"]) * itemsize for key, entry in header.items()
                if key.startswith(_MODEL_PREFIXES))
    return total or path.stat().st_size
