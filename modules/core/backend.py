"""The Backend protocol: the only door from the core to tensors and pipelines."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from PIL import Image

from .model_catalog import ModelRecord
from .model_family import ModelFamily
from .params import GenerationJob
from .progress import CancelToken


class PipelineHandle(Protocol):
    """An opaque loaded model; only the backend that made it looks inside."""


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint in memory with the facts the core needs about it."""

    record: ModelRecord
    family: ModelFamily
    handle: PipelineHandle
    load_seconds: float
    device: str
    dtype: str


@dataclass(frozen=True)
class StepHooks:
    """Callbacks the backend calls between sampling steps."""

    on_step: Callable[[int], None]
    cancel: CancelToken
    preview_every: int = 0  # live preview every N sampling steps (0: none)
    on_preview: Callable[[Image.Image, int], None] | None = None  # (preview picture, step)


@dataclass(frozen=True)
class EmbeddingReport:
    """Embeddings usable with the loaded model (name -> vector count) and those skipped (name -> reason)."""

    loaded: dict[str, int]
    skipped: dict[str, str]


@dataclass(frozen=True)
class LoraRequest:
    """One LoRA for a job: its name as written in the prompt, file and weights."""

    name: str
    path: Path
    te_weight: float
    unet_weight: float


@dataclass(frozen=True)
class LoraReport:
    """LoRAs now active, and those that could not be applied (name -> reason)."""

    applied: tuple[str, ...]
    failed: dict[str, str]
    notes: tuple[str, ...] = ()


class Backend(Protocol):
    """Loads checkpoints and runs jobs; implemented by ``adapters.diffusers_backend``."""

    def load_checkpoint(self, record: ModelRecord) -> LoadedCheckpoint:
        """Load ``record`` (safely, offline) and return it; raise UnsupportedModel on failure."""

    def generate(self, loaded: LoadedCheckpoint, job: GenerationJob, hooks: StepHooks) -> list[Image.Image]:
        """Run one batch and return its images in seed order."""

    def count_tokens(self, loaded: LoadedCheckpoint, text: str, *, parse_emphasis: bool = True) -> tuple[int, int]:
        """(tokens, capacity) of one prompt text as the model would chunk it, e.g. (80, 150); tokenizes only."""

    def set_vae(self, loaded: LoadedCheckpoint, path: Path | None) -> None:
        """Decode with the VAE file at ``path``, or with the checkpoint's own VAE when None."""

    def set_embeddings(self, loaded: LoadedCheckpoint, files: dict[str, Path]) -> EmbeddingReport:
        """Make exactly these embeddings (name -> file) available to prompts; report what did not fit."""

    def set_loras(self, loaded: LoadedCheckpoint, loras: list[LoraRequest], *, keep: int) -> LoraReport:
        """Activate exactly ``loras``; others are deactivated, restoring base weights exactly."""

    def memory_needed(self, record: ModelRecord) -> int:
        """Bytes the loaded model will occupy (estimated from the file's header, without reading weights)."""

    def memory_available(self) -> int | None:
        """Bytes of RAM the process can still use (cached models live there), or None when unknown."""

    def park(self, loaded: LoadedCheckpoint) -> None:
        """Move an inactive cached model out of the way (to RAM when it lives on a GPU)."""

    def activate(self, loaded: LoadedCheckpoint) -> None:
        """Bring a cached model back onto the device."""

    def unload(self, loaded: LoadedCheckpoint) -> None:
        """Release every reference to the model's weights."""
