"""Plan an img2img "Batch" run from folders as A1111 does: which images, which masks, which output names."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from modules.core.errors import InvalidRequest

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")
"""Extensions A1111's batch tab reads from the input folder (case-insensitive)."""

_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class BatchItem:
    """One input image, its mask (None: plain img2img) and the stem its outputs are named after."""

    image: Path
    mask: Path | None
    output_stem: str

    def output_name(self, index: int, per_input: int) -> str:
        """Name (without number prefix or extension) of output `index` (0-based) of `per_input` outputs.

        A1111 names a single output after the input's stem and numbers several ``<stem>-1``, ``<stem>-2`` …
        (its ``[generation_number]``). The output writer adds its usual ``NNNNN-`` prefix and extension.

        >>> item = BatchItem(Path("in/cat.png"), None, "cat")
        >>> item.output_name(0, 1), item.output_name(1, 4)
        ('cat', 'cat-2')
        """
        return self.output_stem if per_input == 1 else f"{self.output_stem}-{index + 1}"


@dataclass(frozen=True)
class BatchPlan:
    """The images to process, in A1111's order, and one message per file that was left out."""

    items: tuple[BatchItem, ...]
    skipped: tuple[str, ...] = ()

    @property
    def is_inpaint(self) -> bool:
        """True when masks were found: every item then has one."""
        return any(item.mask is not None for item in self.items)


def natural_key(text: str) -> list[object]:
    """Sort key that orders ``img2`` before ``img10``, ignoring case (A1111's ``natural_sort_key``).

    >>> sorted(["img10.png", "IMG2.png", "img1.png"], key=natural_key)
    ['img1.png', 'IMG2.png', 'img10.png']
    """
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(text)]


def plan_batch(input_dir: Path, mask_dir: Path | None = None) -> BatchPlan:
    """List the images under `input_dir` (recursively, natural order) and pair masks from `mask_dir` by name.

    Non-image files and unreadable images are skipped with a message. Masks: a mask folder holding a single
    image applies it to every input; otherwise the mask of ``photo.png`` is the first ``photo.*`` in the folder
    and an input without one is skipped. An empty or missing mask folder means plain img2img, as in A1111.
    Hidden files (names starting with ".") are ignored.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise InvalidRequest(f"batch input folder {str(input_dir)!r} does not exist or is not a folder")
    images, skipped = _images_in(input_dir)
    masks = _mask_files(Path(mask_dir)) if mask_dir else []
    items = []
    for image in images:
        mask = _mask_for(image, masks)
        if masks and mask is None:
            skipped.append(f"{image.name}: no mask named {image.stem}.* in the mask folder")
            continue
        items.append(BatchItem(image=image, mask=mask, output_stem=image.stem))
    return BatchPlan(items=tuple(items), skipped=tuple(skipped))


def _images_in(folder: Path) -> tuple[list[Path], list[str]]:
    images, skipped = [], []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=natural_key)
        for name in sorted((f for f in files if not f.startswith(".")), key=natural_key):
            path = Path(root) / name
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                skipped.append(f"{name}: not an image file ({', '.join(IMAGE_EXTENSIONS)})")
            elif not _readable(path):
                skipped.append(f"{name}: cannot be read as an image")
            else:
                images.append(path)
    return images, skipped


def _readable(path: Path) -> bool:
    """True when Pillow recognises the file (only the header is read)."""
    try:
        with Image.open(path):
            return True
    except (UnidentifiedImageError, OSError):
        return False


def _mask_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    names = sorted((n for n in os.listdir(folder) if not n.startswith(".")), key=natural_key)
    return [folder / n for n in names if (folder / n).is_file() and (folder / n).suffix.lower() in IMAGE_EXTENSIONS]


def _mask_for(image: Path, masks: list[Path]) -> Path | None:
    if len(masks) == 1:
        return masks[0]
    prefix = f"{image.stem}."
    return next((mask for mask in masks if mask.name.startswith(prefix)), None)
