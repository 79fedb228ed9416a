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
    grid: GeneratedImage | None = None
    """The job's grid (>= 2 images and ``return_grid``) or a script's main grid; shown before the images."""
    extra_grids: tuple[GeneratedImage, ...] = ()
    """More grids a script shows after the main one (X/Y/Z plot's per-Z grids)."""

    @property
    def gallery(self) -> tuple[GeneratedImage, ...]:
        """What the UI shows and the API returns, in order: the grid(s), then the images."""
        grids = (self.grid, *self.extra_grids) if self.grid is not None else self.extra_grids
        return (*grids, *self.images)

    @property
    def index_of_first_image(self) -> int:
        """Where the images start in `gallery` (A1111's ``index_of_first_image``)."""
        return len(self.gallery) - len(self.images)

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
