"""Upscaler model files through spandrel: safe loading, a one-model cache and tiled inference with bounded memory."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import spandrel
import torch
from PIL import Image

from modules.core.errors import OutOfMemory, UnsupportedModel

from .checkpoint_files import StateDict, read_state_dict
from .devices import DevicePolicy, choose_device, choose_dtype

Network = Callable[[torch.Tensor], torch.Tensor]
_IMAGE_MODES = {1: "L", 3: "RGB"}  # channel count a model takes -> the PIL mode its input is converted to


@dataclass(frozen=True)
class SizeRule:
    """What an architecture needs of its input: a minimum side, sides a multiple of ``multiple``, maybe square."""

    minimum: int = 0
    multiple: int = 1
    square: bool = False


@dataclass(frozen=True)
class LoadedUpscaler:
    """A spandrel model ready to run, with what tiling needs to know about it and the reduced precisions it
    tolerates (others run in fp32)."""

    descriptor: spandrel.ImageModelDescriptor
    architecture: str
    scale: int
    channels: int
    size: SizeRule
    whole_image: bool
    reduced_dtypes: frozenset[torch.dtype]
    dtype: torch.dtype = torch.float32

    @property
    def module(self) -> torch.nn.Module:
        """The underlying torch module."""
        return self.descriptor.model


def describe(state_dict: StateDict, name: str) -> LoadedUpscaler:
    """Detect the architecture of a safely read state dict with spandrel; raise UnsupportedModel if unusable."""
    # spandrel only ever receives tensors we read ourselves, never a path it could unpickle. canonicalize strips
    # the "module."/"netG." prefixes of DataParallel and BasicSR saves, as spandrel's own file loader does.
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(spandrel.canonicalize_state_dict(state_dict))
    except spandrel.UnsupportedModelError as exc:
        raise UnsupportedModel(f"{name}: not a supported upscaler model (unknown architecture)") from exc
    except Exception as exc:  # noqa: BLE001 - an architecture's loader raises many types for weights that do not fit
        raise UnsupportedModel(f"{name}: not a supported upscaler model ({exc})") from exc
    check_usable(descriptor, name)
    req = descriptor.size_requirements
    reduced = {d for d, ok in ((torch.float16, descriptor.supports_half),
                               (torch.bfloat16, descriptor.supports_bfloat16)) if ok}
    return LoadedUpscaler(
        descriptor, descriptor.architecture.name, int(descriptor.scale), int(descriptor.input_channels),
        SizeRule(int(req.minimum), max(int(req.multiple_of), 1), bool(req.square)),
        whole_image=descriptor.tiling == spandrel.ModelTiling.INTERNAL, reduced_dtypes=frozenset(reduced))


def check_usable(descriptor: spandrel.ModelDescriptor, name: str) -> None:
    """Raise UnsupportedModel unless the model maps an RGB or greyscale image to an image of the same kind."""
    arch = descriptor.architecture.name
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise UnsupportedModel(f"{name}: {arch} is an inpainting model (it needs a mask), not an upscaler")
    if descriptor.purpose == "FaceSR":
        raise UnsupportedModel(f"{name}: {arch} is a face restoration model, not an upscaler; face restoration "
                               "is not available")
    channels = (descriptor.input_channels, descriptor.output_channels)
    if channels[0] != channels[1] or channels[0] not in _IMAGE_MODES:
        raise UnsupportedModel(f"{name}: {arch} maps {channels[0]}-channel images to {channels[1]}-channel ones; "
                               "only RGB or greyscale image-to-image models can be used")


@dataclass(frozen=True)
class Tiling:
    """Tile size in input pixels (0 = the whole image at once) and context pixels added on every side."""

    tile: int
    overlap: int


def fit_tiling(tiling: Tiling, size: SizeRule) -> Tiling:
    """Round tile and overlap up to the model's size multiple (and the tile up to its minimum), so that every
    tile starts on the multiple and a network that works on blocks (pixel-unshuffle, windows) sees the same
    grid as in an untiled run."""
    def up(value: int) -> int:
        return -(-max(value, 0) // size.multiple) * size.multiple

    tile = max(up(tiling.tile), size.minimum) if tiling.tile > 0 else 0
    return Tiling(tile, up(tiling.overlap))


def _tile_starts(length: int, tile: int) -> range:
    return range(0, length, tile) if tile > 0 else range(0, length, max(length, 1))


def run_tiled(net: Network, pixels: np.ndarray, *, scale: int, tiling: Tiling,
              to_tensor: Callable[[np.ndarray], torch.Tensor]) -> np.ndarray:
    """Upscale an HxWxC uint8 array tile by tile; return the (H·scale)x(W·scale)xC uint8 result.

    Each tile is run with ``overlap`` pixels of context on every side and only its core is kept, so tiles meet
    without seams; when the network's receptive field fits in the overlap the result equals an untiled run.
    Memory holds the output array plus one tile.
    """
    height, width, channels = pixels.shape
    tile, overlap = (tiling.tile if 0 < tiling.tile < max(height, width) else 0), tiling.overlap
    out = np.empty((height * scale, width * scale, channels), dtype=np.uint8)
    for y0 in _tile_starts(height, tile):
        y1 = min(y0 + tile, height) if tile else height
        for x0 in _tile_starts(width, tile):
            x1 = min(x0 + tile, width) if tile else width
            top, left = max(y0 - overlap, 0), max(x0 - overlap, 0)
            bottom, right = min(y1 + overlap, height), min(x1 + overlap, width)
            with torch.inference_mode():
                result = net(to_tensor(pixels[top:bottom, left:right]))
                core = result[0, :, (y0 - top) * scale:(y1 - top) * scale, (x0 - left) * scale:(x1 - left) * scale]
                core = (core.float().clamp_(0, 1) * 255).round_().to(torch.uint8)
            out[y0 * scale:y1 * scale, x0 * scale:x1 * scale] = core.permute(1, 2, 0).cpu().numpy()
    return out


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
            loaded.descriptor.to(self.device, dtype).eval()
            self._cached = (key, loaded)
            return loaded

    def upscale(self, image: Image.Image, path: Path, *, tile: int, overlap: int) -> Image.Image:
        """Upscale ``image`` once by the model's own scale, in tiles of ``tile`` pixels (0 = whole image).

        Tiles smaller than the model's minimum, or not square where it must be, are padded by spandrel's call
        and the padding is cut from the result, so any image size works.
        """
        loaded = self.load(path)
        pixels = np.asarray(image.convert(_IMAGE_MODES[loaded.channels])).reshape(image.height, image.width, -1)
        tiling = fit_tiling(Tiling(0 if loaded.whole_image else tile, overlap), loaded.size)
        try:
            out = run_tiled(loaded.descriptor, pixels, scale=loaded.scale, tiling=tiling,
                            to_tensor=lambda part: self._to_tensor(part, loaded.dtype))
        except torch.OutOfMemoryError as exc:
            raise OutOfMemory(f"Out of memory while upscaling with {path.name}; lower the tile size") from exc
        if loaded.channels == 1:  # a greyscale model's result is shown like every other: as RGB
            return Image.fromarray(out.squeeze(2)).convert("RGB")
        return Image.fromarray(out)

    def unload(self) -> None:
        """Forget the cached model."""
        with self._lock:
            self._cached = None

    def _to_tensor(self, pixels: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        tensor = torch.from_numpy(np.array(pixels))  # a writable copy of one tile
        return tensor.permute(2, 0, 1).unsqueeze(0).to(self.device, dtype).div_(255)
