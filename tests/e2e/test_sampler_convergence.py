"""Samplers solving the same ODE agree at many steps: Euler, Heun and DPM++ 2M (diffusers schedulers) and our
own Euler, on the same initial latents of the tiny SD1 model with the Karras schedule."""
from __future__ import annotations

import torch

from modules.adapters.latents import initial_latents
from modules.adapters.sampling.loop import sample
from modules.adapters.sampling.setup import SamplingSetup
from tests.support.simple_guidance import SimpleGuidance, encode_conditioning
from modules.core.sampler_settings import DIFFUSERS, OURS, SamplerSettings, choose_runner
from modules.core.samplers import resolve_sampler
from tests.conftest import install_checkpoint

STEPS = 60


def _final_latents(ctx, sampler_name: str, schedule: str, steps: int, settings=SamplerSettings()):
    loaded = ctx.models.loaded
    pipe = loaded.handle.pipe
    sampler, chosen = resolve_sampler(sampler_name, schedule)
    setup = SamplingSetup(sampler=sampler, schedule=chosen, steps=steps, seeds=(7,),
                          scheduler_config=loaded.handle.scheduler_config, settings=settings)
    with torch.inference_mode():
        conditioning = encode_conditioning(pipe, "a red circle", "blurry", batch=1, size=(64, 64))
        model = SimpleGuidance(pipe.unet, conditioning, 3.0)
        return sample(setup, model, initial_latents((7,), 64, 64), lambda step, x: None), setup


def test_ode_samplers_agree_at_many_steps(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    ctx.models.ensure(None)
    finals = {}
    for name in ("Euler", "Heun", "DPM++ 2M"):
        finals[name], setup = _final_latents(ctx, name, "Karras", STEPS)
        assert choose_runner(setup.sampler, setup.schedule, setup.settings, None) == DIFFUSERS
    # A non-default sigma setting moves Euler onto our own implementation of the same schedule.
    ours, setup = _final_latents(ctx, "Euler", "Karras", STEPS, SamplerSettings(rho=7.0))
    assert choose_runner(setup.sampler, setup.schedule, setup.settings, None) == OURS
    finals["Euler (ours)"] = ours
    scale = float(finals["Heun"].abs().mean())
    for name, latents in finals.items():
        gap = float((latents - finals["Heun"]).abs().mean()) / scale
        assert gap < 0.03, f"{name} differs from Heun by {gap:.3%} at {STEPS} steps"
    few, _ = _final_latents(ctx, "Euler", "Karras", 4)
    assert float((few - finals["Heun"]).abs().mean()) / scale > 0.03, "4 steps are visibly less converged"
