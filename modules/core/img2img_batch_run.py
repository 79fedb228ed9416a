"""Run an img2img "Batch" over folders (A1111's batch sub-tab): one img2img job per input image (with its mask,
if a mask folder is given), outputs named after the inputs, infotext in each PNG, unreadable files reported."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageOps

from .errors import InvalidRequest
from .img2img_batch import plan_batch
from .params import Img2ImgRequest
from .results import GenerationResult


@dataclass(frozen=True)
class BatchResult:
    """Files written (in input order), their infotexts, one message per skipped file, and whether the user
    interrupted the run."""

    outputs: tuple[Path, ...]
    infotexts: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    interrupted: bool = False


Save = Callable[[Image.Image, str, str], Path]
"""``save(image, name, infotext) -> path`` in the output folder."""


def run_batch(img2img: Callable[[Img2ImgRequest], GenerationResult], save: Save, request: Img2ImgRequest,
              input_dir: Path, mask_dir: Path | None = None, cancelled: Callable[[], bool] = lambda: False
              ) -> BatchResult:
    """Process every image of `input_dir` with `request`'s settings; `request.init_images` and `mask` are
    replaced per image and nothing is saved by the jobs themselves (the batch names its own files)."""
    plan = plan_batch(Path(input_dir), Path(mask_dir) if mask_dir else None)
    outputs, texts, skipped = [], [], list(plan.skipped)
    for item in plan.items:
        if cancelled():
            return BatchResult(tuple(outputs), tuple(texts), tuple(skipped), interrupted=True)
        try:
            image = _open(item.image)
            mask = _open(item.mask) if item.mask is not None else None
        except OSError as exc:
            skipped.append(f"{item.image.name}: cannot be read ({exc})")
            continue
        job = dataclasses.replace(request, init_images=(image,), mask=mask, save_images=False)
        try:
            result = img2img(job)
        except InvalidRequest as exc:
            skipped.append(f"{item.image.name}: {exc}")
            continue
        for index, made in enumerate(result.images):
            outputs.append(save(made.image, item.output_name(index, len(result.images)), made.infotext))
            texts.append(made.infotext)
        if result.interrupted:
            return BatchResult(tuple(outputs), tuple(texts), tuple(skipped), interrupted=True)
    return BatchResult(tuple(outputs), tuple(texts), tuple(skipped))


def _open(path: Path) -> Image.Image:
    """The image with its EXIF orientation applied, fully loaded (the file is closed afterwards)."""
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).copy()
