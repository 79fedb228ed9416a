"""Run one of our own samplers: build the sigma list of the schedule type, scale the noise, call the function."""
from __future__ import annotations

import math

import torch
from diffusers import EulerDiscreteScheduler

from . import k_basic, k_dpm_solver, k_dpmpp, k_restart, k_timesteps
from .denoiser import Denoiser
from .k_common import KRun
from .model_sigmas import ModelSigmas
from .noise import NoiseSource, noise_generators
from .schedules import ScheduleInputs, schedule_sigmas
from .setup import SamplingSetup
from .types import ModelFn, ProgressFn

K_FUNCTIONS = {
    "euler": k_basic.euler, "euler_ancestral": k_basic.euler_ancestral, "heun": k_basic.heun,
    "dpm_2": k_basic.dpm_2, "dpm_2_ancestral": k_basic.dpm_2_ancestral, "lms": k_basic.lms, "lcm": k_basic.lcm,
    "ddim": k_timesteps.ddim, "ddim_cfgpp": k_timesteps.ddim_cfgpp, "plms": k_timesteps.plms,
    "dpmpp_2s_ancestral": k_dpmpp.dpmpp_2s_ancestral, "dpmpp_sde": k_dpmpp.dpmpp_sde, "dpmpp_2m": k_dpmpp.dpmpp_2m,
    "dpmpp_2m_sde": k_dpmpp.dpmpp_2m_sde, "dpmpp_2m_sde_heun": k_dpmpp.dpmpp_2m_sde_heun,
    "dpmpp_3m_sde": k_dpmpp.dpmpp_3m_sde, "dpm_fast": k_dpm_solver.dpm_fast,
    "dpm_adaptive": k_dpm_solver.dpm_adaptive, "restart": k_restart.restart,
}


def model_sigmas(scheduler_config: dict) -> ModelSigmas:
    """The model's training sigmas, from its own scheduler config (beta schedule and count)."""
    return ModelSigmas.from_alphas_cumprod(EulerDiscreteScheduler.from_config(scheduler_config).alphas_cumprod)


def job_sigmas(setup: SamplingSetup, table: ModelSigmas) -> torch.Tensor:
    """The sigma list A1111 would use: schedule type, sigma range overrides, discarded penultimate sigma."""
    s, name = setup.settings, setup.schedule.name
    if name == "automatic":
        name = "ddim" if setup.sampler.timesteps else "uniform"
    discard = setup.sampler.discard_penultimate or s.always_discard_next_to_last_sigma
    inputs = ScheduleInputs(setup.steps + (1 if discard else 0), s.sigma_min or table.sigma_min,
                            s.sigma_max or table.sigma_max, table, rho=s.rho, sdxl=setup.sdxl,
                            beta_alpha=s.beta_dist_alpha, beta_beta=s.beta_dist_beta)
    sigmas = schedule_sigmas(name, inputs)
    if discard and len(sigmas) > 2:
        sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
    return sigmas


def run_ours(setup: SamplingSetup, model: ModelFn, noise: torch.Tensor, progress: ProgressFn, *,
             init: torch.Tensor | None = None) -> torch.Tensor:
    """Denoise ``noise`` (unit Gaussian latents) with our implementation of the sampler; return clean latents.

    With ``init`` the last ``setup.run_steps`` intervals of the schedule run from ``init + noise * sigma``."""
    table = model_sigmas(setup.scheduler_config)
    sigmas = job_sigmas(setup, table).tolist()[setup.start:]
    first = sigmas[0]
    if init is not None:
        x = init + noise * first
    else:
        x = noise * (math.sqrt(1 + first ** 2) if setup.settings.sgm_noise_multiplier else first)
    gens = noise_generators(setup.seeds, setup.settings.eta_noise_seed_delta, tuple(noise.shape[1:]),
                            setup.rng_device)
    run = KRun(Denoiser(model, table, setup.v_prediction), NoiseSource(gens, x), setup.params, setup.run_steps,
               progress, intervals=len(sigmas) - 1)
    return K_FUNCTIONS[setup.sampler.k_function](run, x, sigmas)
