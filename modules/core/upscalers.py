"""The upscaler table: Pillow built-ins, latent modes for hires fix, and model files in A1111's upscaler folders."""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .errors import ModelNotFound

MODEL_SUFFIXES = (".pth", ".pt", ".safetensors")
DEFAULT_MODEL_SCALE = 4


class UpscalerKind(str, Enum):
    """How an upscaler works: no-op, a Pillow filter, or a neural network file."""

    NONE = "none"
    LANCZOS = "lanczos"
    NEAREST = "nearest"
    MODEL = "model"


@dataclass(frozen=True)
class UpscalerRecord:
    """One entry of the upscaler list; ``name`` is what users and clients pass (A1111: the file stem)."""

    name: str
    kind: UpscalerKind
    scale: int = DEFAULT_MODEL_SCALE
    path: Path | None = None
    family: str | None = None  # the A1111 folder it came from (ESRGAN, SwinIR…), shown as `model_name`


@dataclass(frozen=True)
class LatentUpscaleMode:
    """A latent upscaler for hires fix: the torch ``interpolate`` mode and whether to antialias."""

    name: str
    mode: str
    antialias: bool


BUILTIN_UPSCALERS: tuple[UpscalerRecord, ...] = (
    UpscalerRecord("None", UpscalerKind.NONE),
    UpscalerRecord("Lanczos", UpscalerKind.LANCZOS),
    UpscalerRecord("Nearest", UpscalerKind.NEAREST),
)

LATENT_UPSCALE_MODES: tuple[LatentUpscaleMode, ...] = (
    LatentUpscaleMode("Latent", "bilinear", False),
    LatentUpscaleMode("Latent (antialiased)", "bilinear", True),
    LatentUpscaleMode("Latent (bicubic)", "bicubic", False),
    LatentUpscaleMode("Latent (bicubic antialiased)", "bicubic", True),
    LatentUpscaleMode("Latent (nearest)", "nearest", False),
    LatentUpscaleMode("Latent (nearest-exact)", "nearest-exact", False),
)

# A1111's upscaler folders under the models dir; every one is scanned for model files spandrel-style loaders read.
MODEL_FOLDERS: tuple[str, ...] = ("ESRGAN", "RealESRGAN", "SwinIR", "DAT", "HAT", "ScuNET")

_SCALE_IN_NAME = re.compile(r"(?:^|[^a-z0-9])(?:(\d)x|x(\d))", re.IGNORECASE)


def find_latent_mode(name: str) -> LatentUpscaleMode | None:
    """Return the latent upscale mode called ``name``, or None.

    >>> find_latent_mode("Latent (bicubic antialiased)")
    LatentUpscaleMode(name='Latent (bicubic antialiased)', mode='bicubic', antialias=True)
    """
    return next((m for m in LATENT_UPSCALE_MODES if m.name == name), None)


def scale_from_name(stem: str) -> int:
    """Guess a model's scale from its file name as A1111 does for listing (``4x-UltraSharp`` → 4); default 4.

    >>> scale_from_name("RealESRGAN_x2plus"), scale_from_name("1x-ITF-SkinDiffDetail"), scale_from_name("model")
    (2, 1, 4)
    """
    match = _SCALE_IN_NAME.search(stem.replace("_", "-"))
    if match is None:
        return DEFAULT_MODEL_SCALE
    return int(match.group(1) or match.group(2)) or DEFAULT_MODEL_SCALE


def upscaler_folders(models_dir: Path, extra: dict[str, Path] | None = None) -> tuple[tuple[str, Path], ...]:
    """(family, folder) pairs to scan: ``<models>/<family>`` plus flag folders such as ``--esrgan-models-path``."""
    pairs = [(family, Path(models_dir) / family) for family in MODEL_FOLDERS]
    pairs += [(family, Path(folder)) for family, folder in (extra or {}).items()]
    return tuple(dict.fromkeys(pairs))


def _scan_folder(family: str, folder: Path) -> list[UpscalerRecord]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.lower().endswith(MODEL_SUFFIXES):
            continue
        try:
            if not entry.is_file():
                continue
        except OSError:
            continue
        stem = Path(entry.name).stem
        found.append(UpscalerRecord(stem, UpscalerKind.MODEL, scale_from_name(stem), Path(entry.path), family))
    return found


class UpscalerCatalog:
    """Lists the built-in upscalers and the model files in the upscaler folders; rescans on ``refresh()``."""

    def __init__(self, folders: tuple[tuple[str, Path], ...]):
        self._folders = folders
        self._lock = threading.Lock()
        self._models: tuple[UpscalerRecord, ...] = ()
        self.refresh()

    def ensure_folders(self) -> None:
        """Create ``models/ESRGAN`` so users know where upscaler files go (the other folders stay optional)."""
        self._folders[0][1].mkdir(parents=True, exist_ok=True)

    def refresh(self) -> None:
        """Rescan every folder (directory entries only; no file is opened)."""
        models: dict[str, UpscalerRecord] = {}
        for family, folder in self._folders:
            for record in _scan_folder(family, folder):
                models.setdefault(str(record.path.resolve()), record)
        ordered = sorted(models.values(), key=lambda r: r.name.lower())
        with self._lock:
            self._models = tuple(ordered)

    def upscalers(self) -> list[UpscalerRecord]:
        """Built-ins first (None, Lanczos, Nearest), then model files by name, as A1111 orders them."""
        with self._lock:
            return [*BUILTIN_UPSCALERS, *self._models]

    def names(self) -> list[str]:
        """Every upscaler name, in list order."""
        return [r.name for r in self.upscalers()]

    def find(self, name: str) -> UpscalerRecord:
        """The upscaler called ``name`` (first match in list order); raise ModelNotFound otherwise."""
        found = next((r for r in self.upscalers() if r.name == name), None)
        if found is None:
            raise ModelNotFound(f"Upscaler not found: {name}")
        return found
