"""GenerationService: the txt2img and img2img flows as named steps shared by the UI and the API."""
from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Mapping

from PIL import Image

from . import seeds
from .backend import EmbeddingReport, LoadedCheckpoint, StepHooks
from .extra_networks import ExtraNetworkTag, extract_tags
from .hires import ImageUpscale, plan_hires
from .img2img_inputs import PreparedImg2Img, apply_overlay, prepare_img2img
from .img2img_batch_run import BatchResult, run_batch
from .img2img_jobs import init_spec, outpainted, with_settings_defaults
from .job_addons import AddonOutcome, AddonSetup
from .extensions import ExtensionHost
from .job_grid import grid_folder, with_job_grid
from .job_queue import JobQueue
from .job_infotext import Made, build_infotext
from .model_manager import ModelManager
from .output_writer import OutputWriter
from .params import GenerationJob, GenerationRequest, Img2ImgRequest, PromptOptions, Txt2ImgRequest
from .paths import Paths
from .prompt_parser import strip_comments
from .progress import CancelToken, ProgressTracker
from .results import GeneratedImage, GenerationResult
from .sampler_settings import choose_runner, effective_eta, sampler_settings
from .samplers import effective_schedule, resolve_sampler
from .seeds import NoiseSpec
from .settings import Settings, SettingsStore
from .validation import check_work_budget, validate_img2img, validate_txt2img


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    request: GenerationRequest
    settings: Settings
    jobs: tuple[GenerationJob, ...]
    timestamp: str
    tags: tuple[ExtraNetworkTag, ...] = ()
    kind: str = "txt2img"
    fixed: Mapping[str, object] = dataclasses.field(default_factory=dict)  # e.g. Denoising strength
    extra: tuple[tuple[str, object], ...] = ()  # img2img and hires infotext keys, in A1111's order
    prepared: PreparedImg2Img | None = None  # img2img: overlays for the paste-back
    warnings: tuple[str, ...] = ()
    hooked: tuple[tuple[str, object], ...] = ()  # infotext fields from extensions


class GenerationService:
    """Runs jobs one at a time (one FIFO lock for UI and API) and saves what they make."""

    def __init__(self, *, models: ModelManager, settings: SettingsStore, paths: Paths, progress: ProgressTracker,
                 addons: AddonSetup, clock: Callable[[], datetime.datetime] = datetime.datetime.now,
                 extensions: ExtensionHost | None = None, queue: JobQueue | None = None,
                 upscale_to: ImageUpscale | None = None):
        self._models, self._settings, self._paths = models, settings, paths
        self._progress, self._clock, self._addons = progress, clock, addons
        self._extensions = extensions or ExtensionHost()  # prompt styles are one of them
        self._writer = OutputWriter(paths.outputs_root)
        self._queue = queue or JobQueue(progress)
        self._upscale_to = upscale_to  # image upscalers for hires fix and img2img (called in the job's turn)

    @property
    def queue(self) -> JobQueue:
        """The FIFO every job and model switch goes through, so nothing fights over the device."""
        return self._queue

    @property
    def work_lock(self) -> ContextManager:
        """A turn in the job queue for device work outside a generation (model switches, unloads)."""
        return self._queue.turn("load model")

    def embedding_report(self) -> EmbeddingReport:
        """Embeddings the last job could use, and those skipped."""
        return self._addons.embeddings

    def txt2img(self, request: Txt2ImgRequest) -> GenerationResult:
        """Validate, resolve seeds and sampler, load the model, sample each batch (and its hires pass), write
        infotext and files."""
        request = _checkpoint_override(self._extensions.transform_request(request))
        validate_txt2img(request)
        plan = self._plan(request)
        spec, fields = plan_hires(plan.request, plan.jobs[0], upscale=self._upscale_to)
        if spec is not None:
            plan = dataclasses.replace(plan, jobs=tuple(dataclasses.replace(job, hires=spec) for job in plan.jobs),
                                       fixed={"Denoising strength": request.denoising_strength},
                                       extra=tuple(fields))
        return self._execute(plan)

    def img2img(self, request: Img2ImgRequest) -> GenerationResult:
        """As txt2img, starting from init images (a mask makes it inpainting; `outpaint` grows the canvas);
        outputs go to the img2img folder, pasted back over the original outside the mask."""
        request = _checkpoint_override(self._extensions.transform_request(request))
        validate_img2img(request)
        settings = self._settings.current().with_overrides(request.override_settings)
        request = outpainted(with_settings_defaults(request, settings), str(settings.get("img2img_background_color")))
        validate_img2img(request)
        plan = dataclasses.replace(self._plan(request), kind="img2img",
                                   fixed={"Denoising strength": request.denoising_strength})
        return self._execute(plan, prepare=self._with_init)

    def img2img_batch(self, request: Img2ImgRequest, input_dir: str | Path, output_dir: str,
                      mask_dir: str | Path | None = None) -> BatchResult:
        """A1111's Batch sub-tab: img2img every image of `input_dir` (masks paired by name from `mask_dir`),
        writing ``<output_dir>/<input stem>.png`` with infotext; `output_dir` is inside the data folder."""
        folder = self._paths.resolve_output_dir(output_dir)

        def save(image: Image.Image, name: str, text: str) -> Path:
            return self._writer.save_named_png(image, folder, texts={"parameters": text}, name=name)
        return run_batch(self.img2img, save, request, Path(input_dir), Path(mask_dir) if mask_dir else None)

    def _with_init(self, plan: _Plan) -> _Plan:
        """Prepare the pictures (under the lock: the img2img upscaler may run a model) and attach them."""
        request: Img2ImgRequest = plan.request  # type: ignore[assignment]
        prepared = prepare_img2img(request, upscaler=self._img2img_upscaler(plan.settings),
                                   background=str(plan.settings.get("img2img_background_color")))
        spec = init_spec(prepared, request, plan.settings)
        return dataclasses.replace(plan, jobs=tuple(dataclasses.replace(job, init=spec) for job in plan.jobs),
                                   extra=prepared.infotext, prepared=prepared, warnings=prepared.warnings)

    def _img2img_upscaler(self, settings: Settings):
        """The setting ``upscaler_for_img2img`` as a `resize_modes.Upscaler`, or None (plain Lanczos)."""
        name, upscale_to = settings.get("upscaler_for_img2img"), self._upscale_to
        if not name or name == "None" or upscale_to is None:
            return None
        return lambda image, scale: upscale_to(image, str(name), round(image.width * scale),
                                               round(image.height * scale))

    def _execute(self, plan: _Plan, prepare: Callable[[_Plan], _Plan] | None = None) -> GenerationResult:
        with self._queue.turn(plan.kind) as queued:
            token = self._progress.begin(plan.kind, job_count=len(plan.jobs), timestamp=plan.timestamp,
                                         token=queued.token)
            self._progress.set_text("Loading model..." if self._models.loaded is None else "")
            started = time.perf_counter()
            loaded = self._models.ensure(plan.request.checkpoint)
            model_seconds = time.perf_counter() - started
            self._progress.set_text("")
            if prepare is not None:
                plan = prepare(plan)
            first = plan.jobs[0]
            outcome = self._addons.apply(loaded, plan.settings, (first.prompt, first.negative_prompt),
                                         list(plan.tags))
            result = self._run(plan, loaded, outcome, token)
            result = self._with_grid(plan, result)
            timings = (("model", model_seconds), *outcome.timings, ("total", time.perf_counter() - started))
            log.info("%s: %s", plan.kind, ", ".join(f"{what} {seconds:.2f}s" for what, seconds in timings))
            result = dataclasses.replace(result, timings=timings)
        self._extensions.after_generation(result)
        return result

    def _plan(self, request: GenerationRequest) -> _Plan:
        settings = self._settings.current().with_overrides(request.override_settings)
        check_work_budget(request, float(settings.get("max_job_megapixel_steps")))
        request = _without_comments(request, settings)
        sampler, schedule = resolve_sampler(request.sampler_name, request.scheduler)
        schedule = effective_schedule(sampler, schedule)
        tuning, eta = sampler_settings(settings.get), effective_eta(sampler, settings.get)
        choose_runner(sampler, schedule, tuning, eta)  # an unsupported pair fails before any model work
        noise = _noise_plan(request)
        prompt, tags = extract_tags(_with_default_lora(request.prompt, settings))
        negative, _ = extract_tags(request.negative_prompt)
        jobs = tuple(
            GenerationJob(prompt=prompt, negative_prompt=negative, steps=request.steps,
                          sampler=sampler, schedule=schedule, cfg_scale=request.cfg_scale, width=request.width,
                          height=request.height, eta=eta, rng=str(settings.get("randn_source")),
                          sampler_settings=tuning, prompt_options=_prompt_options(settings),
                          **_batch_seeds(noise[i * request.batch_size:(i + 1) * request.batch_size]))
            for i in range(request.n_iter))
        return _Plan(request, settings, jobs, self._clock().strftime("%Y%m%d%H%M%S"), tuple(tags),
                     hooked=self._extensions.extra_infotext(request))

    def _run(self, plan: _Plan, loaded: LoadedCheckpoint, outcome: AddonOutcome,
             token: CancelToken) -> GenerationResult:
        made: list[GeneratedImage] = []
        unsaved: list[OSError] = []
        every = int(plan.settings.get("show_progress_every_n_steps")) if plan.settings.get("live_previews_enable") \
            else 0
        for number, job in enumerate(plan.jobs):
            if token.cancelled:
                break
            token.clear_skip()  # A1111: Skip ends the batch it was pressed in; the next one runs in full
            self._progress.begin_batch(number, _total_steps(job))
            hooks = StepHooks(on_step=self._progress.step, cancel=token, preview_every=max(0, every),
                              on_preview=self._progress.set_preview)
            images = self._models.generate(loaded, job, hooks)
            if plan.prepared is not None:
                count = max(1, len(plan.prepared.overlays))
                images = [apply_overlay(img, plan.prepared, i % count) for i, img in enumerate(images)]
            made += [self._finish_image(plan, Made(loaded, outcome, job), img, spec, unsaved)
                     for img, spec in zip(images, job.noise_specs())]
        first = plan.jobs[0]
        return GenerationResult(
            images=tuple(made), prompt=plan.request.prompt, negative_prompt=plan.request.negative_prompt,
            seed=first.seeds[0], subseed=first.noise_specs()[0].subseed, subseed_strength=first.subseed_strength,
            sampler_name=first.sampler.name, schedule_label=first.schedule.label, steps=first.steps,
            cfg_scale=first.cfg_scale, width=first.width, height=first.height,
            batch_size=plan.request.batch_size, model_name=loaded.record.stem, model_hash=loaded.record.short_hash,
            job_timestamp=plan.timestamp, interrupted=token.cancelled,
            warnings=(*plan.warnings, *outcome.warnings, *_save_warnings(unsaved)))

    def _with_grid(self, plan: _Plan, result: GenerationResult) -> GenerationResult:
        """The job's grid (``job_grid``): made, saved and put first when A1111 would."""
        folder = grid_folder(self._paths, plan.settings, plan.kind, self._clock().date())
        return with_job_grid(result, plan.request, plan.settings, writer=self._writer, folder=folder)

    def _finish_image(self, plan: _Plan, made: Made, image: Image.Image, noise: NoiseSpec,
                      unsaved: list[OSError]) -> GeneratedImage:
        image = self._extensions.postprocess_image(image, plan.request)
        seed = noise.seed
        fixed = dict(plan.fixed)
        if made.loaded.family.is_inpainting:
            fixed["Conditional mask weight"] = plan.settings.get("inpainting_mask_weight")
        text = build_infotext(made, plan.request, seed, plan.settings, subseed=noise.subseed, fixed=fixed,
                              extra=(*plan.extra, *plan.hooked))
        path = None
        if plan.request.save_images and plan.settings.get("samples_save"):
            folder = self._output_folder(plan.settings, plan.kind)
            pnginfo = text if plan.settings.get("enable_pnginfo") else None
            try:
                path = self._writer.save_image(image, folder, seed=seed, infotext=pnginfo,
                                             fmt=str(plan.settings.get("samples_format")))
            except OSError as exc:  # a full or read-only disk: the image is still returned (the writer leaves
                log.warning("Could not save an image: %s", exc)  # no partial file behind)
                unsaved.append(exc)
        return GeneratedImage(image=image, seed=seed, infotext=text, path=path, subseed=noise.subseed)

    def _output_folder(self, settings: Settings, kind: str = "txt2img"):
        base = settings.get("outdir_samples") or settings.get(f"outdir_{kind}_samples")
        folder = self._paths.resolve_output_dir(str(base))
        if settings.get("save_to_dirs"):
            folder = folder / self._clock().date().isoformat()
        return folder


def _save_warnings(errors: list[OSError]) -> tuple[str, ...]:
    """One warning for the images that could not be written (they are still returned)."""
    if not errors:
        return ()
    first = errors[0]
    where = f" ({first.filename})" if getattr(first, "filename", None) else ""
    return (f"{len(errors)} image file(s) could not be saved: {first.strerror or first}{where}; the images are "
            "returned but not on disk (check the outputs folder's free space and permissions)",)


def _total_steps(job: GenerationJob) -> int:
    """Steps the progress bar counts for one batch: the first pass, plus the hires pass."""
    first = job.steps if job.init is None else job.init.steps.run
    return first + (job.hires.steps.run if job.hires is not None else 0)


def _noise_plan(request: GenerationRequest) -> tuple[NoiseSpec, ...]:
    """Resolve -1 seeds once per job, then give every image its seed and subseed (A1111's rules)."""
    resize = seeds.resize_from(request.seed_resize_from_w, request.seed_resize_from_h)
    return seeds.plan_noise(seeds.resolve_seed(request.seed), seeds.resolve_seed(request.subseed),
                            request.subseed_strength, resize, request.batch_size * request.n_iter)


def _batch_seeds(noise: tuple[NoiseSpec, ...]) -> dict[str, Any]:
    """The GenerationJob fields that carry one batch's noise plan."""
    return {"seeds": tuple(n.seed for n in noise), "subseeds": tuple(n.subseed for n in noise),
            "subseed_strength": noise[0].subseed_strength, "seed_resize_from": noise[0].resize_from}


def _checkpoint_override(request: GenerationRequest) -> GenerationRequest:
    """``override_settings.sd_model_checkpoint`` means "this checkpoint for this job" (A1111), like `checkpoint`."""
    overrides = dict(request.override_settings or {})
    wanted = overrides.pop("sd_model_checkpoint", None)
    overrides.pop("sd_checkpoint_hash", None)
    if wanted is None and len(overrides) == len(request.override_settings or {}):
        return request
    return dataclasses.replace(request, override_settings=overrides, checkpoint=request.checkpoint or wanted)


def _without_comments(request: GenerationRequest, settings: Settings) -> GenerationRequest:
    """A1111's `enable_prompt_comments`: `#` comments go before tags are read (and so from the infotext too)."""
    if not settings.get("enable_prompt_comments"):
        return request
    return dataclasses.replace(request, prompt=strip_comments(request.prompt),
                               negative_prompt=strip_comments(request.negative_prompt))


def _prompt_options(settings: Settings) -> PromptOptions:
    return PromptOptions(clip_skip=int(settings.get("CLIP_stop_at_last_layers")),
                         emphasis=str(settings.get("emphasis")),
                         use_old_scheduling=bool(settings.get("use_old_scheduling")),
                         sdxl_clip_l_skip=bool(settings.get("sdxl_clip_l_skip")),
                         pad_cond_uncond=bool(settings.get("pad_cond_uncond")),
                         batch_cond_uncond=bool(settings.get("batch_cond_uncond")))


def _with_default_lora(prompt: str, settings: Settings) -> str:
    """A1111's ``sd_lora`` setting adds one LoRA to every prompt."""
    name = str(settings.get("sd_lora") or "None")
    if name == "None":
        return prompt
    return f"{prompt}<lora:{name}:{settings.get('extra_networks_default_multiplier')}>"
