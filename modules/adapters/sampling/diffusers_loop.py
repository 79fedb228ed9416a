"""The classic diffusers denoising loop (set_timesteps, scale_model_input, model, step) for samplers whose
diffusers scheduler matches A1111's."""
from __future__ import annotations

import inspect

import torch

from ..diffusers_schedulers import make_scheduler
from .noise import noise_generators
from .setup import SamplingSetup
from .types import ModelFn, ProgressFn

_EULER, _UNIPC = "EulerDiscreteScheduler", "UniPCMultistepScheduler"


def run_diffusers(setup: SamplingSetup, model: ModelFn, noise: torch.Tensor, progress: ProgressFn, *,
                  init: torch.Tensor | None = None) -> torch.Tensor:
    """Denoise ``noise`` (unit Gaussian latents) with the sampler's diffusers scheduler; return clean latents.

    Order-2 schedulers run two timesteps per user step; both evaluations report the same user step. With
    ``init`` the schedule starts at ``setup.start`` (as diffusers' img2img pipelines: begin index, add_noise).
    """
    scheduler = make_scheduler(setup.scheduler_config, setup.sampler, setup.schedule, _overrides(setup))
    scheduler.set_timesteps(setup.steps, device=noise.device)
    timesteps = scheduler.timesteps
    if init is None:
        x = noise * scheduler.init_noise_sigma
    else:
        begin = setup.start * scheduler.order
        timesteps = timesteps[begin:]
        if hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(begin)
        x = scheduler.add_noise(init, noise, timesteps[:1])
    extra = _step_kwargs(setup, scheduler, noise)
    done, total = 0, setup.run_steps
    for t in timesteps:
        x_in = scheduler.scale_model_input(x, t)
        out = model(x_in, t.reshape(1).expand(x.shape[0]).to(x.device), min(done, total - 1))
        result = scheduler.step(out.guided.float(), t, x, return_dict=True, **extra)
        x = result.prev_sample
        if getattr(scheduler, "state_in_first_order", True):
            done += 1
            progress(done, x)
    return x


def _overrides(setup: SamplingSetup) -> dict[str, object]:
    """Scheduler options that come from settings (A1111's ``uni_pc_order`` and ``uni_pc_lower_order_final``)."""
    if setup.sampler.scheduler_class != _UNIPC:
        return {}
    s = setup.settings
    return {"solver_order": s.uni_pc_order, "lower_order_final": s.uni_pc_lower_order_final}


def _step_kwargs(setup: SamplingSetup, scheduler, noise: torch.Tensor) -> dict:
    accepted = inspect.signature(scheduler.step).parameters
    extra: dict = {}
    if "generator" in accepted:
        extra["generator"] = noise_generators(setup.seeds, setup.settings.eta_noise_seed_delta,
                                              tuple(noise.shape[1:]), setup.rng_device)
    if "eta" in accepted and setup.eta is not None:
        extra["eta"] = setup.eta
    if setup.sampler.scheduler_class == _EULER:
        s = setup.settings
        extra.update(s_churn=s.s_churn, s_tmin=s.s_tmin, s_tmax=s.s_tmax_value, s_noise=s.s_noise)
    return extra
