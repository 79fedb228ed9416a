"""The grid after a txt2img/img2img job (A1111: made when the job has >= 2 images, saved with ``grid_save``,
shown first with ``return_grid``), and where grids are saved."""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from PIL import Image

from .grids import grid_rows, image_grid
from .output_writer import OutputWriter
from .params import GenerationRequest
from .paths import Paths
from .results import GeneratedImage, GenerationResult
from .settings import Settings


def grid_folder(paths: Paths, settings: Settings, kind: str, today: datetime.date) -> Path:
    """``outdir_grids`` or ``outdir_<kind>_grids``, plus the dated subfolder with ``grid_save_to_dirs``."""
    base = settings.get("outdir_grids", "") or settings.get(f"outdir_{kind}_grids")
    folder = paths.resolve_output_dir(str(base))
    return folder / today.isoformat() if settings.get("grid_save_to_dirs", True) else folder


def save_grid(writer: OutputWriter, image: Image.Image, folder: Path, settings: Settings, infotext: str,
              basename: str = "grid", *, seed: int | None = None, prompt: str = "") -> Path:
    """Save a grid in ``grid_format`` with its infotext (when ``enable_pnginfo``); ``grid_extended_filename``
    appends ``-<seed>-<prompt>``."""
    text = infotext if settings.get("enable_pnginfo", True) else None
    decoration = f"{seed}-{prompt}" if settings.get("grid_extended_filename", False) and seed is not None else ""
    return writer.save_grid(image, folder, infotext=text, fmt=str(settings.get("grid_format", "png")),
                            basename=basename, decoration=decoration[:128])


def wants_grid(request: GenerationRequest, settings: Settings, count: int) -> bool:
    """A1111's rule: a grid when it would be shown or saved, the job allows it (the API: only when saving
    images), and there are >= 2 images (or ``grid_only_if_multiple`` is off)."""
    if not request.save_images or request.do_not_save_grid or count == 0:
        return False
    if count < 2 and settings.get("grid_only_if_multiple", True):
        return False
    return bool(settings.get("return_grid", True) or settings.get("grid_save", True))


def with_job_grid(result: GenerationResult, request: GenerationRequest, settings: Settings, *,
                  writer: OutputWriter, folder: Path) -> GenerationResult:
    """Make, save and attach the job's grid (rows per ``n_rows``; infotext = the first image's)."""
    if not wants_grid(request, settings, len(result.images)):
        return result
    pictures = [img.image for img in result.images]
    rows = grid_rows(len(pictures), request.batch_size, int(settings.get("n_rows", -1)))
    first = result.images[0]
    grid = GeneratedImage(image=image_grid(pictures, rows), seed=first.seed, infotext=first.infotext,
                          subseed=first.subseed)
    if settings.get("grid_save", True):
        try:
            path = save_grid(writer, grid.image, folder, settings, first.infotext, seed=first.seed,
                             prompt=result.prompt)
            grid = dataclasses.replace(grid, path=path)
        except OSError as exc:  # a full or read-only disk: the grid is still returned, with a warning
            result = dataclasses.replace(result, warnings=(
                *result.warnings, f"The grid could not be saved: {exc.strerror or exc}; it is returned but not on "
                "disk"))
    return dataclasses.replace(result, grid=grid) if settings.get("return_grid", True) else result
