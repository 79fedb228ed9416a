"""The img2img "Batch" sub-tab: every image of the input folder (with its mask, if a mask folder is given) goes
through ``ctx.generation.img2img``; with an output folder the results are saved there under the input's name."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from PIL import Image

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest
from modules.core.img2img_batch import BatchItem, plan_batch
from modules.core.output_writer import OutputWriter
from modules.core.params import Img2ImgRequest
from modules.core.results import GeneratedImage, GenerationResult

from .img2img_requests import base_request

Generate = Callable[[Img2ImgRequest], GenerationResult]


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


def item_request(v: dict, item: BatchItem, *, save: bool) -> Img2ImgRequest:
    """The request for one batch item (size from the image when resizing by a scale)."""
    image = _open(item.image)
    mask = _open(item.mask) if item.mask is not None else None
    return dataclasses.replace(base_request(v, image), init_images=(image,), mask=mask, save_images=save)


def _save_named(ctx: AppContext, folder: Path, item: BatchItem, images: tuple[GeneratedImage, ...]) -> None:
    writer = OutputWriter(ctx.paths.data_dir)
    for index, made in enumerate(images):
        writer.save_named_png(made.image, folder, texts={"parameters": made.infotext},
                              name=item.output_name(index, len(images)))


def run_batch(ctx: AppContext, v: dict, generate: Generate) -> tuple[list[GenerationResult], tuple[str, ...]]:
    """Generate for every planned item; return the results and the messages about files left out."""
    if not (v.get("batch_input_dir") or "").strip():
        raise InvalidRequest("Enter an input directory for the batch")
    mask_dir = (v.get("batch_mask_dir") or "").strip()
    plan = plan_batch(Path(v["batch_input_dir"].strip()).expanduser(),
                      Path(mask_dir).expanduser() if mask_dir else None)
    if not plan.items:
        raise InvalidRequest(f"No images to process in {v['batch_input_dir']}")
    output = (v.get("batch_output_dir") or "").strip()
    folder = ctx.paths.resolve_output_dir(output) if output else None
    results = []
    for item in plan.items:
        result = generate(item_request(v, item, save=folder is None))
        if folder is not None:
            _save_named(ctx, folder, item, result.images)
        results.append(result)
        if result.interrupted:
            break
    return results, plan.skipped
