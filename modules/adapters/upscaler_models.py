"""Upscaler model files: safe loading, a one-model cache and tiled inference with bounded memory."""
from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from modules.core.errors import OutOfMemory, UnsupportedModel

from .checkpoint_files import StateDict, read_state_dict
from .devices import DevicePolicy, choose_device, choose_dtype
from .esrgan_arch import build_rrdbnet, is_esrgan

Network = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LoadedUpscaler:
    """A network ready to run: its module, integer scale, size multiple its input needs, architecture name and
    the reduced precisions it tolerates (others run in fp32)."""

    module: torch.nn.Module
    scale: int
    multiple: int
    architecture: str
    reduced_dtypes: frozenset[torch.dtype] = frozenset({torch.float16, torch.bfloat16})
    dtype: torch.dtype = torch.float32


def describe(state_dict: StateDict, name: str) -> LoadedUpscaler:
    """Build the network for a state dict: ESRGAN-family in-house, other architectures through spandrel if present."""
    if is_esrgan(state_dict):
        net = build_rrdbnet(state_dict)
        return LoadedUpscaler(net, net.scale, max(net.unshuffle, 1), "ESRGAN")
    return _describe_with_spandrel(state_dict, name)


def _describe_with_spandrel(state_dict: StateDict, name: str) -> LoadedUpscaler:
    # spandrel is optional: it needs a torchvision matching the installed torch, which not every install has.
    # It only ever receives a state dict we read safely, never a path it could unpickle itself.
    try:
        spandrel = importlib.import_module("spandrel")
    except ImportError as exc:
        raise UnsupportedModel(
            f"{name}: not an ESRGAN-family model; other architectures (SwinIR, DAT, HAT, ScuNET…) need the "
            f"optional 'spandrel' package with a torchvision matching torch ({exc})") from exc
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state_dict)
    except Exception as exc:  # noqa: BLE001 - spandrel raises several types for unknown or broken files
        raise UnsupportedModel(f"{name}: not a supported upscaler model ({exc or 'unknown architecture'})") from exc
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.input_channels != 3:
        raise UnsupportedModel(f"{name}: {descriptor.architecture.name} is not a colour image upscaler")
    multiple = max(int(descriptor.size_requirements.multiple_of), 1)
    reduced = {d for d, ok in ((torch.float16, descriptor.supports_half),
                               (torch.bfloat16, descriptor.supports_bfloat16)) if ok}
    return LoadedUpscaler(descriptor.model.eval(), int(descriptor.scale), multiple, descriptor.architecture.name,
                          frozenset(reduced))


@dataclass(frozen=True)
class Tiling:
    """Tile size in input pixels (0 = the whole image at once) and context pixels added on every side."""

    tile: int
    overlap: int


def _tile_starts(length: int, tile: int) -> range:
    return range(0, length, tile) if tile > 0 else range(0, length, max(length, 1))


def run_tiled(net: Network, pixels: np.ndarray, *, scale: int, tiling: Tiling,
              to_tensor: Callable[[np.ndarray], torch.Tensor]) -> np.ndarray:
    """Upscale an HxWx3 uint8 array tile by tile; return the (H·scale)x(W·scale)x3 uint8 result.

    Each tile is run with ``overlap`` pixels of context on every side and only its core is kept, so tiles meet
    without seams; when the network's receptive field fits in the overlap the result equals an untiled run.
    Memory holds the output array plus one tile.
    """
    height, width = pixels.shape[:2]
    tile, overlap = (tiling.tile if 0 < tiling.tile < max(height, width) else 0), tiling.overlap
    out = np.empty((height * scale, width * scale, 3), dtype=np.uint8)
    for y0 in _tile_starts(height, tile):
        y1 = min(y0 + tile, height) if tile else height
        for x0 in _tile_starts(width, tile):
            x1 = min(x0 + tile, width) if tile else width
            top, left = max(y0 - overlap, 0), max(x0 - overlap, 0)
            bottom, right = min(y1 + overlap, height), min(x1 + overlap, width)
            result = net(to_tensor(pixels[top:bottom, left:right]))
            core = result[0, :, (y0 - top) * scale:(y1 - top) * scale, (x0 - left) * scale:(x1 - left) * scale]
            core = (core.float().clamp_(0, 1) * 255).round_().to(torch.uint8)
            out[y0 * scale:y1 * scale, x0 * scale:x1 * scale] = core.permute(1, 2, 0).cpu().numpy()
    return out


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class NetworkUpscaler:
    """Runs upscaler model files on the app's device; keeps the last used model in memory."""

    def __init__(self, policy: DevicePolicy):
        self.device = choose_device(policy)
        self.dtype = choose_dtype(policy, self.device)
        self._lock = threading.Lock()
        self._cached: tuple[tuple[str, int, int], LoadedUpscaler] | None = None

    def load(self, path: Path) -> LoadedUpscaler:
        """The network of ``path`` (cached by path, size and mtime); raise UnsupportedModel if unusable."""
        stat = os.stat(path)
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
            self._cached = None  # drop the old model before reading the new one
            loaded = describe(read_state_dict(Path(path)), path.name)
            dtype = self.dtype if self.dtype in (torch.float32, *loaded.reduced_dtypes) else torch.float32
            loaded = replace(loaded, dtype=dtype)
            loaded.module.to(self.device, dtype)
            self._cached = (key, loaded)
            return loaded

    def upscale(self, image: Image.Image, path: Path, *, tile: int, overlap: int) -> Image.Image:
        """Upscale ``image`` once by the model's own scale, in tiles of ``tile`` pixels (0 = whole image)."""
        loaded = self.load(path)
        pixels = np.asarray(image.convert("RGB"))
        height, width = pixels.shape[:2]
        m = loaded.multiple
        if m > 1:  # pad once at the bottom/right edge so every tile boundary stays on the size multiple
            pixels = np.pad(pixels, ((0, _round_up(height, m) - height), (0, _round_up(width, m) - width), (0, 0)),
                            mode="edge")
        try:
            with torch.inference_mode():
                tiling = Tiling(_round_up(max(tile, 0), m), _round_up(max(overlap, 0), m))
                out = run_tiled(loaded.module, pixels, scale=loaded.scale, tiling=tiling,
                                to_tensor=lambda part: self._to_tensor(part, loaded.dtype))
        except torch.OutOfMemoryError as exc:
            raise OutOfMemory(f"Out of memory while upscaling with {path.name}; lower the tile size") from exc
        return Image.fromarray(out[:height * loaded.scale, :width * loaded.scale])

    def unload(self) -> None:
        """Forget the cached model."""
        with self._lock:
            self._cached = None

    def _to_tensor(self, pixels: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        tensor = torch.from_numpy(np.array(pixels))  # a writable copy of one tile
        return tensor.permute(2, 0, 1).unsqueeze(0).to(self.device, dtype).div_(255)

