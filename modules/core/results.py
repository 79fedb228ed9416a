"""What a finished generation hands back to the UI or the API."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class GeneratedImage:
    """One image with its own seed, infotext and (when saved) file path."""

    image: Image.Image
    seed: int
    infotext: str
    path: Path | None = None
    subseed: int = -1


@dataclass(frozen=True)
class GenerationResult:
    """All images of a job plus the facts clients read from A1111's ``info`` payload."""

    images: tuple[GeneratedImage, ...]
    prompt: str
    negative_prompt: str
    seed: int
    sampler_name: str
    schedule_label: str
    steps: int
    cfg_scale: float
    width: int
    height: int
    batch_size: int
    model_name: str
    model_hash: str | None
    job_timestamp: str
    interrupted: bool = False
    warnings: tuple[str, ...] = ()
    subseed: int = -1
    subseed_strength: float = 0.0
    timings: tuple[tuple[str, float], ...] = ()
    """(what, seconds): model load or switch, VAE, LoRA and embedding setup, sampling, total."""

    @property
    def all_seeds(self) -> list[int]:
        """The seed of every image, in order."""
        return [img.seed for img in self.images]

    @property
    def all_subseeds(self) -> list[int]:
        """The variation seed of every image, in order (A1111 reports them even when the strength is 0)."""
        return [img.subseed for img in self.images]

    @property
    def infotexts(self) -> list[str]:
        """The infotext of every image, in order."""
        return [img.infotext for img in self.images]
