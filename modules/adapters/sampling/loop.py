"""Our denoising loop: pick diffusers or our own sampler for a job and run it with interrupt support."""
from __future__ import annotations

import torch

from modules.core.sampler_settings import DIFFUSERS, choose_runner

from .diffusers_loop import run_diffusers
from .k_runner import run_ours
from .setup import SamplingSetup
from .types import ModelFn, ProgressFn, SamplingInterrupted


def sample(setup: SamplingSetup, model: ModelFn, noise: torch.Tensor, progress: ProgressFn) -> torch.Tensor:
    """Return the final latents for unit Gaussian ``noise``; on interrupt, the latest x0 estimate.

    ``progress(step, denoised)`` is called after each user step; it may raise SamplingInterrupted to stop.
    Raises SamplerNotFound when the sampler cannot run with this schedule type or these settings.
    """
    runner = choose_runner(setup.sampler, setup.schedule, setup.settings, setup.eta)
    try:
        if runner == DIFFUSERS:
            return run_diffusers(setup, model, noise, progress)
        return run_ours(setup, model, noise, progress)
    except SamplingInterrupted as stop:
        return stop.latents
