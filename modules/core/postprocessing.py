"""The Extras job: upscale images by a factor or to a size with up to two upscalers, keep metadata, save."""
from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

from PIL import Image

from .errors import InvalidRequest
from .infotext import quote_value
from .output_writer import OutputWriter
from .paths import Paths
from .job_queue import JobQueue
from .png_info import PARAMETERS_KEY, read_text_chunks
from .progress import ProgressTracker
from .settings import Settings, SettingsStore
from .upscalers import UpscalerCatalog, UpscalerKind, UpscalerRecord

MAX_OUTPUT_PIXELS = 1 << 27  # ≈ 11585²: keeps one extras job within a few hundred MB of RAM
MAX_SCALE = 8.0
MAX_MODEL_PASSES = 3  # A1111 runs a model up to three times to reach a factor above its own scale


class ModelUpscaler(Protocol):
    """Runs one upscaler model file over an image once, at the model's own scale (implemented in adapters)."""

    def upscale(self, image: Image.Image, path: Path, *, tile: int, overlap: int) -> Image.Image:
        """Return ``image`` upscaled by the model in ``path``, in tiles of ``tile`` pixels (0 = no tiling)."""


@dataclass(frozen=True)
class ExtrasOptions:
    """What to do to every image (A1111's Extras fields; face restoration is not available)."""

    resize_mode: int = 0  # 0 = scale by `upscaling_resize`, 1 = scale to `upscaling_resize_w` x `_h`
    upscaling_resize: float = 2.0
    upscaling_resize_w: int = 512
    upscaling_resize_h: int = 512
    upscaling_crop: bool = True
    upscaler_1: str = "None"
    upscaler_2: str = "None"
    upscaler_2_visibility: float = 0.0
    upscale_first: bool = False  # only orders upscaling against face restoration, which this build lacks
    face_restoration_visibility: float = 0.0


@dataclass(frozen=True)
class ExtrasInput:
    """One source image; ``name`` (batch modes) becomes the output file name."""

    image: Image.Image
    name: str | None = None


@dataclass(frozen=True)
class ExtrasOutput:
    """One processed image, the PNG text chunks it carries, and where it was saved (None when not saved)."""

    image: Image.Image
    infotext: str
    texts: dict[str, str]
    path: Path | None = None


@dataclass(frozen=True)
class ExtrasResult:
    """Every processed image and A1111's ``html_info`` (the last infotext as HTML)."""

    outputs: tuple[ExtrasOutput, ...]
    html_info: str


def plaintext_to_html(text: str) -> str:
    """Escape text for the info panel, one ``<br>`` per line, as A1111 shows it.

    >>> plaintext_to_html("a <b>\\nc")
    '<p>a &lt;b&gt;<br>\\nc</p>'
    """
    return "<p>" + "<br>\n".join(html.escape(line) for line in text.split("\n")) + "</p>"


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def validate_options(options: ExtrasOptions) -> None:
    """Raise InvalidRequest naming the first field that is out of range."""
    if options.resize_mode not in (0, 1):
        raise InvalidRequest(f"resize_mode must be 0 (scale by) or 1 (scale to), got {options.resize_mode}")
    if not 1.0 <= options.upscaling_resize <= MAX_SCALE:
        raise InvalidRequest(f"upscaling_resize must be between 1 and {MAX_SCALE:g}, got {options.upscaling_resize}")
    for name in ("upscaling_resize_w", "upscaling_resize_h"):
        if getattr(options, name) < 8:
            raise InvalidRequest(f"{name} must be at least 8, got {getattr(options, name)}")
    if not 0.0 <= options.upscaler_2_visibility <= 1.0:
        raise InvalidRequest("extras_upscaler_2_visibility must be between 0 and 1, "
                             f"got {options.upscaler_2_visibility}")
    if options.face_restoration_visibility:
        raise InvalidRequest("Face restoration (GFPGAN/CodeFormer) is not available in this build; set its "
                             "visibility to 0")


@dataclass(frozen=True)
class _Plan:
    scale: float
    size: tuple[int, int] | None  # the crop canvas for "scale to" with crop
    info: tuple[tuple[str, object], ...]


def plan_upscale(options: ExtrasOptions, width: int, height: int) -> _Plan:
    """The factor, optional crop canvas and info fields for one image of ``width`` x ``height``."""
    if options.resize_mode == 1:
        w, h = options.upscaling_resize_w, options.upscaling_resize_h
        scale = max(w / width, h / height)
        crop = (w, h) if options.upscaling_crop else None
        return _Plan(scale, crop, (("Postprocess upscale to", f"{w}x{h}"),))
    return _Plan(options.upscaling_resize, None, (("Postprocess upscale by", _number(options.upscaling_resize)),))


def target_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """A1111's upscale target: the scaled size rounded down to a multiple of 8.

    >>> target_size(64, 48, 4), target_size(101, 101, 2)
    ((256, 192), (200, 200))
    """
    return int(width * scale) // 8 * 8, int(height * scale) // 8 * 8


def center_crop(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Place ``image`` centred on a black canvas of ``size`` (cutting off what does not fit)."""
    canvas = Image.new("RGB", size)
    canvas.paste(image, (size[0] // 2 - image.width // 2, size[1] // 2 - image.height // 2))
    return canvas


class PostprocessingService:
    """Runs Extras jobs in turn with every other device job (the shared job queue) and saves their results."""

    def __init__(self, *, catalog: UpscalerCatalog, network: ModelUpscaler, settings: SettingsStore,
                 paths: Paths, progress: ProgressTracker, queue: JobQueue,
                 clock: Callable[[], datetime.datetime] = datetime.datetime.now):
        self._catalog, self._network, self._settings, self._paths = catalog, network, settings, paths
        self._progress, self._queue, self._clock = progress, queue, clock
        self._writer = OutputWriter(paths.outputs_root)

    def run(self, options: ExtrasOptions, inputs: Sequence[ExtrasInput], *, save: bool,
            output_dir: str | None = None) -> ExtrasResult:
        """Process every input in order; save to ``output_dir`` (data-dir relative) or the extras folder."""
        validate_options(options)
        if not inputs:
            raise InvalidRequest("No images to process")
        first = self._catalog.find(options.upscaler_1)
        second = self._catalog.find(options.upscaler_2) if options.upscaler_2 != "None" else None
        settings = self._settings.current()
        folder = self._output_folder(settings, output_dir) if save else None
        outputs: list[ExtrasOutput] = []
        with self._queue.turn("extras") as job:
            token = self._progress.begin("extras", job_count=len(inputs), timestamp=self._clock().strftime(
                "%Y%m%d%H%M%S"), token=job.token)
            for number, source in enumerate(inputs):
                if token.cancelled:
                    break
                self._progress.begin_batch(number, 1)
                outputs.append(self._process(source, options, (first, second), settings, folder))
        return ExtrasResult(tuple(outputs), plaintext_to_html(outputs[-1].infotext) if outputs else "")

    def upscale_to(self, image: Image.Image, upscaler: str, width: int, height: int) -> Image.Image:
        """Resize to exactly ``width`` x ``height``, enlarging with the named upscaler first (A1111's resize for
        hires fix and img2img). The caller holds the device lock; raise ModelNotFound for an unknown name."""
        record = self._catalog.find(upscaler)
        scale = max(width / image.width, height / image.height)
        if record.kind is not UpscalerKind.NONE and scale > 1.0:
            image = self._upscale_with(record, image.convert("RGB"), scale, self._settings.current())
        if image.size != (width, height):
            image = image.resize((width, height), resample=Image.Resampling.LANCZOS)
        return image

    def _output_folder(self, settings: Settings, output_dir: str | None) -> Path:
        base = output_dir or settings.get("outdir_samples", "") or settings.get("outdir_extras_samples")
        return self._paths.resolve_output_dir(str(base))

    def _process(self, source: ExtrasInput, options: ExtrasOptions,
                 upscalers: tuple[UpscalerRecord, UpscalerRecord | None], settings: Settings,
                 folder: Path | None) -> ExtrasOutput:
        image = source.image.convert("RGB")
        image, info = self._upscale_image(image, options, upscalers, settings)
        infotext = ", ".join(k if k == v else f"{k}: {quote_value(v)}" for k, v in info)
        texts: dict[str, str] = {}
        if settings.get("enable_pnginfo", True):
            parameters = _source_parameters(source.image)
            texts = {**({PARAMETERS_KEY: parameters} if parameters else {}), "postprocessing": infotext,
                     "extras": infotext}
        path = self._writer.save_named_png(image, folder, texts=texts, name=_stem(source.name)) if folder else None
        return ExtrasOutput(image, infotext, texts, path)

    def _upscale_image(self, image: Image.Image, options: ExtrasOptions,
                       upscalers: tuple[UpscalerRecord, UpscalerRecord | None],
                       settings: Settings) -> tuple[Image.Image, list[tuple[str, object]]]:
        first, second = upscalers
        if first.kind is UpscalerKind.NONE:  # A1111: upscaler 1 "None" disables the upscale step entirely
            return image, []
        plan = plan_upscale(options, image.width, image.height)
        size = target_size(image.width, image.height, plan.scale)
        if min(size) < 8 or size[0] * size[1] > MAX_OUTPUT_PIXELS:
            raise InvalidRequest(f"Upscaled size {size[0]}x{size[1]} is outside 8 px .. {MAX_OUTPUT_PIXELS} pixels")
        info = list(plan.info)
        result = self._upscale_with(first, image, plan.scale, settings)
        if plan.size is not None:
            result = center_crop(result, plan.size)
            info.append(("Postprocess crop to", f"{plan.size[0]}x{plan.size[1]}"))
        info.append(("Postprocess upscaler", first.name))
        if second is not None and second.kind is not UpscalerKind.NONE and options.upscaler_2_visibility > 0:
            other = self._upscale_with(second, image, plan.scale, settings)
            other = center_crop(other, plan.size) if plan.size is not None else other
            result = Image.blend(result, other.convert(result.mode), options.upscaler_2_visibility)
            info.append(("Postprocess upscaler 2", second.name))
        return result, info

    def _upscale_with(self, record: UpscalerRecord, image: Image.Image, scale: float,
                      settings: Settings) -> Image.Image:
        """A1111's upscale: built-in filter or up to three model passes, then Lanczos to the exact target."""
        dest = target_size(image.width, image.height, scale)
        if record.kind is UpscalerKind.MODEL:
            tile, overlap = int(settings.get("ESRGAN_tile", 192)), int(settings.get("ESRGAN_tile_overlap", 8))
            for attempt in range(MAX_MODEL_PASSES):
                if image.width >= dest[0] and image.height >= dest[1] and (attempt > 0 or scale != 1):
                    break
                before = image.size
                if before[0] * before[1] * record.scale ** 2 > 4 * MAX_OUTPUT_PIXELS:
                    raise InvalidRequest(f"{record.name}: another x{record.scale} pass would be too large")
                image = self._network.upscale(image, record.path, tile=tile, overlap=overlap)
                if image.size == before:
                    break
        elif record.kind is not UpscalerKind.NONE:
            method = Image.Resampling.LANCZOS if record.kind is UpscalerKind.LANCZOS else Image.Resampling.NEAREST
            image = image.resize((int(image.width * scale), int(image.height * scale)), resample=method)
        if image.size != dest:
            image = image.resize(dest, resample=Image.Resampling.LANCZOS)
        return image


def _source_parameters(image: Image.Image) -> str | None:
    value = image.info.get(PARAMETERS_KEY)
    if isinstance(value, str):
        return value
    return read_text_chunks(image).get(PARAMETERS_KEY) if image.format == "PNG" else None


def _stem(name: str | None) -> str | None:
    return Path(name.replace("\\", "/")).stem if name else None
