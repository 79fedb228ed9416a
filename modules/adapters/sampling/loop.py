"""Our denoising loop: pick diffusers or our own sampler for a job and run it with interrupt support."""
from __future__ import annotations

import torch

from modules.core.sampler_settings import DIFFUSERS, choose_runner

from .diffusers_loop import run_diffusers
from .k_runner import run_ours
from .setup import SamplingSetup
from .types import ModelFn, ProgressFn, SamplingInterrupted


def sample(setup: SamplingSetup, model: ModelFn, noise: torch.Tensor, progress: ProgressFn, *,
           init: torch.Tensor | None = None) -> torch.Tensor:
    """Return the final latents for unit Gaussian ``noise``; on interrupt, the latest x0 estimate.

    With ``init`` (img2img) sampling starts at schedule step ``setup.start`` from ``init`` noised to that
    step's noise level (A1111: ``x + noise * sigma_sched[0]``); with nothing to run, ``init`` comes back.

    ``progress(step, denoised)`` is called after each user step; it may raise SamplingInterrupted to stop.
    Raises SamplerNotFound when the sampler cannot run with this schedule type or these settings.
    """
    runner = choose_runner(setup.sampler, setup.schedule, setup.settings, setup.eta)
    if init is not None and setup.run_steps <= 0:
        return init
    try:
        if runner == DIFFUSERS:
            return run_diffusers(setup, model, noise, progress, init=init)
        return run_ours(setup, model, noise, progress, init=init)
    except SamplingInterrupted as stop:
        return stop.latents
