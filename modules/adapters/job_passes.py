"""One job's sampling passes on a loaded pipeline: txt2img or img2img/inpaint, then hires fix's second pass.

The steps follow A1111's ``StableDiffusionProcessingImg2Img.sample`` (noise the init latent to the first
sigma of the schedule's tail, blend the mask every step and at the end) and
``StableDiffusionProcessingTxt2Img.sample_hr_pass`` (resize the latents or the decoded pictures, crop, then an
img2img pass with fresh noise from the same seeds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from modules.core.model_family import ModelFamily
from modules.core.params import GenerationJob, HiresSpec, InitSpec

from .init_latents import (apply_masked_content, blank_inpainting_conditioning, encode_images,
                           inpainting_conditioning, regenerate_mask)
from .job_conditioning import guided_model
from .latents import initial_latents
from .sampling.decode import decode_latents
from .sampling.k_runner import model_sigmas
from .sampling.loop import sample
from .sampling.masked import MaskedModel
from .sampling.setup import SamplingSetup
from .sampling.types import ProgressFn


@dataclass(frozen=True)
class PassContext:
    """The loaded pipeline and per-job plumbing every pass needs.

    ``progress(offset)`` returns the step callback of a pass whose first step is user step ``offset + 1``."""

    pipe: object
    family: ModelFamily
    scheduler_config: dict
    device: torch.device
    rng_device: torch.device
    embedding_names: tuple[str, ...]
    progress: Callable[[int], ProgressFn]
    should_stop: Callable[[], bool] = lambda: False  # interrupt or skip: no further pass starts

    @property
    def inpainting(self) -> bool:
        """Whether the UNet takes the 5 extra inpainting channels."""
        return self.family.is_inpainting


def run_job(ctx: PassContext, job: GenerationJob) -> torch.Tensor:
    """The job's final latents: the first pass (txt2img or img2img), then the hires pass if asked for."""
    noise = _noise(ctx, job, job.width, job.height)
    latents = _txt2img(ctx, job, noise) if job.init is None else _img2img(ctx, job, job.init, noise)
    if job.hires is None or ctx.should_stop():
        return latents
    done = job.steps if job.init is None else job.init.steps.run
    return _hires(ctx, job, job.hires, latents, done)


def _noise(ctx: PassContext, job: GenerationJob, width: int, height: int) -> torch.Tensor:
    return initial_latents(job.seeds, width, height, device=ctx.rng_device, rng_source=job.rng,
                           subseeds=job.subseeds, subseed_strength=job.subseed_strength,
                           seed_resize_from=job.seed_resize_from).to(ctx.device, torch.float32)


def _setup(ctx: PassContext, job: GenerationJob, *, steps: int, start: int = 0, hires: HiresSpec | None = None):
    source = hires or job
    return SamplingSetup(sampler=source.sampler, schedule=source.schedule, steps=steps, seeds=job.seeds,
                         scheduler_config=ctx.scheduler_config, eta=source.eta, settings=source.sampler_settings,
                         sdxl=ctx.family is ModelFamily.SDXL, rng_device=ctx.rng_device, start=start)


def _model(ctx: PassContext, job: GenerationJob, *, steps: int, size: tuple[int, int], image_cond=None,
           prompts: tuple[str, str] | None = None):
    prompt, negative = prompts or (job.prompt, job.negative_prompt)
    return guided_model(ctx.pipe, ctx.family, prompt=prompt, negative_prompt=negative, steps=max(steps, 1),
                        batch=job.batch_size, cfg_scale=job.cfg_scale, size=size,
                        embedding_names=list(ctx.embedding_names), settings=job.prompt_options,
                        image_cond=image_cond)


def _txt2img(ctx: PassContext, job: GenerationJob, noise: torch.Tensor) -> torch.Tensor:
    cond = (blank_inpainting_conditioning(ctx.pipe.vae, job.batch_size, (job.width, job.height)).to(ctx.device)
            if ctx.inpainting else None)
    model = _model(ctx, job, steps=job.steps, size=(job.width, job.height), image_cond=cond)
    return sample(_setup(ctx, job, steps=job.steps), model, noise, ctx.progress(0))


def _img2img(ctx: PassContext, job: GenerationJob, spec: InitSpec, noise: torch.Tensor) -> torch.Tensor:
    """Encode the init images, apply the mask's latent side, noise to the start sigma and sample the tail."""
    images = [spec.images[i % len(spec.images)] for i in range(job.batch_size)]
    vae = ctx.pipe.vae
    init = encode_images(vae, images, spec.latent_size).to(ctx.device)
    regen = None if spec.latent_mask is None else regenerate_mask(spec.latent_mask, init)
    if regen is not None:
        init = apply_masked_content(init, regen, spec.masked_content, noise)
    cond = (inpainting_conditioning(vae, images, spec.cond_mask, spec.mask_weight, tuple(init.shape)).to(ctx.device)
            if ctx.inpainting else None)
    setup = _setup(ctx, job, steps=spec.steps.schedule, start=spec.steps.start)
    model = _model(ctx, job, steps=spec.steps.run, size=(job.width, job.height), image_cond=cond)
    if regen is not None:
        model = MaskedModel(model, model_sigmas(ctx.scheduler_config), init, regen, v_prediction=setup.v_prediction)
    latents = sample(setup, model, noise * spec.noise_multiplier, ctx.progress(0), init=init)
    return latents if regen is None else init * (1 - regen) + latents * regen


def _hires(ctx: PassContext, job: GenerationJob, spec: HiresSpec, latents: torch.Tensor, done: int) -> torch.Tensor:
    """Resize the first pass to the target, crop, and refine it with an img2img pass at the final size."""
    width, height = spec.upscale_to
    if spec.latent_mode is not None:
        mode, antialias = spec.latent_mode
        latents = F.interpolate(latents, size=(height // 8, width // 8), mode=mode, antialias=antialias)
        images = None
    else:
        images = [spec.upscale_image(image, width, height) for image in to_images(ctx.pipe.vae, latents)]
        latents = encode_images(ctx.pipe.vae, images, None).to(ctx.device)
    tx, ty = spec.truncate
    latents = latents[:, :, ty // 2:latents.shape[2] - (ty + 1) // 2, tx // 2:latents.shape[3] - (tx + 1) // 2]
    final = spec.size
    cond = None
    if ctx.inpainting:
        cond = (blank_inpainting_conditioning(ctx.pipe.vae, job.batch_size, final) if images is None
                else inpainting_conditioning(ctx.pipe.vae, images, None, 1.0, tuple(latents.shape))).to(ctx.device)
    setup = _setup(ctx, job, steps=spec.steps.schedule, start=spec.steps.start, hires=spec)
    model = _model(ctx, job, steps=spec.steps.run, size=final, image_cond=cond,
                   prompts=(spec.prompt, spec.negative_prompt))
    return sample(setup, model, _noise(ctx, job, *final), ctx.progress(done), init=latents)


def to_images(vae, latents: torch.Tensor) -> list[Image.Image]:
    """Decode latents to RGB pictures (values rounded as the final output is)."""
    decoded = decode_latents(vae, latents)
    return [Image.fromarray((image * 255).round().clip(0, 255).astype(np.uint8)) for image in decoded]
