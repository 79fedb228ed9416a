"""Tests for modules.core.sampler_settings: which implementation runs, and A1111's sampler infotext keys."""
from __future__ import annotations

import doctest

import pytest

from modules.core import sampler_settings
from modules.core.errors import SamplerNotFound
from modules.core.sampler_settings import (
    DIFFUSERS, OURS, SamplerSettings, choose_runner, effective_eta, sampler_infotext, uses_ensd,
)
from modules.core.samplers import SAMPLERS, SCHEDULES, SamplerSpec, effective_schedule, resolve_sampler
from modules.core.settings import SETTING_SPECS


def test_doctests():
    assert doctest.testmod(sampler_settings).failed == 0


def _runner(name, schedule="Automatic", eta=None, **settings):
    sampler, chosen = resolve_sampler(name, schedule)
    return choose_runner(sampler, effective_schedule(sampler, chosen), SamplerSettings(**settings), eta)


@pytest.mark.parametrize("name, schedule, expected", [
    ("Euler", "Automatic", DIFFUSERS), ("Euler", "Karras", DIFFUSERS), ("Euler", "Polyexponential", OURS),
    ("Euler a", "Karras", OURS), ("DPM++ 2M", "Automatic", DIFFUSERS), ("DPM++ 2M", "Align Your Steps", OURS),
    ("DDIM", "Automatic", DIFFUSERS), ("DDIM", "Karras", OURS), ("PLMS", "Beta", OURS), ("LCM", "Karras", OURS),
    ("UniPC", "Karras", DIFFUSERS), ("DPM++ SDE", "Automatic", OURS), ("DPM2", "Automatic", OURS),
    ("Restart", "Exponential", OURS), ("DDIM CFG++", "Automatic", OURS),
])
def test_runner_by_schedule(name, schedule, expected):
    assert _runner(name, schedule) == expected


def test_settings_diffusers_cannot_express_select_ours():
    assert _runner("Heun") == DIFFUSERS and _runner("Heun", s_churn=1.0) == OURS
    assert _runner("Euler", s_churn=1.0, s_noise=0.9) == DIFFUSERS, "EulerDiscreteScheduler takes churn"
    assert _runner("Euler a", eta=1.0) == DIFFUSERS and _runner("Euler a", eta=0.5) == OURS
    assert _runner("DPM++ 2M", sigma_max=10.0) == OURS and _runner("Euler", sgm_noise_multiplier=True) == OURS
    assert _runner("Euler", "Beta") == DIFFUSERS and _runner("Euler", "Beta", beta_dist_alpha=0.5) == OURS
    assert _runner("DDIM", sigma_min=0.1) == DIFFUSERS, "timestep samplers ignore sigma settings, as in A1111"


def test_unsupported_pairs_raise():
    with pytest.raises(SamplerNotFound, match="Schedule type KL Optimal is not available for sampler UniPC"):
        _runner("UniPC", "KL Optimal")
    assert _runner("UniPC", "Karras", rho=3.0) == DIFFUSERS, "a timestep sampler ignores sigma settings"
    extension_sampler = SamplerSpec("Custom", (), None, "EulerDiscreteScheduler")  # no own implementation
    with pytest.raises(SamplerNotFound, match="Custom cannot use the sigma settings"):
        choose_runner(extension_sampler, SCHEDULES[0], SamplerSettings(sigma_max=5.0), None)


def test_every_sampler_runs_with_automatic_and_karras():
    for sampler in SAMPLERS:
        for label in ("Automatic", "Karras"):
            schedule = effective_schedule(*resolve_sampler(sampler.name, label))
            assert choose_runner(sampler, schedule, SamplerSettings(), None) in (DIFFUSERS, OURS)


def test_effective_eta_and_ensd():
    get = {"eta_ancestral": 0.5, "eta_ddim": 0.25}.get
    euler_a, ddim, euler = (resolve_sampler(n, None)[0] for n in ("Euler a", "DDIM", "Euler"))
    assert (effective_eta(euler_a, get), effective_eta(ddim, get), effective_eta(euler, get)) == (0.5, 0.25, None)
    ensd = SamplerSettings(eta_noise_seed_delta=31337)
    assert uses_ensd(euler_a, ensd, 1.0) and not uses_ensd(euler_a, ensd, 0.0)
    assert not uses_ensd(euler, ensd, None) and not uses_ensd(euler_a, SamplerSettings(), 1.0)


def test_infotext_keys_in_a1111_order():
    sampler, schedule = resolve_sampler("Heun", "Karras")
    settings = SamplerSettings(s_churn=1.0, s_tmin=0.1, s_tmax=5.0, s_noise=0.9, sigma_min=0.1, sigma_max=10.0,
                               rho=5.0, always_discard_next_to_last_sigma=True, sgm_noise_multiplier=True)
    assert sampler_infotext(sampler, schedule, settings, None) == [
        ("Discard penultimate sigma", True), ("Schedule min sigma", 0.1), ("Schedule max sigma", 10.0),
        ("Schedule rho", 5.0), ("SGM noise multiplier", True), ("Sigma churn", 1.0), ("Sigma tmin", 0.1),
        ("Sigma tmax", 5.0), ("Sigma noise", 0.9)]
    dpm2 = resolve_sampler("DPM2", None)
    assert sampler_infotext(*dpm2, SamplerSettings(always_discard_next_to_last_sigma=True), None) == [], \
        "DPM2 discards anyway"
    beta = resolve_sampler("Euler", "Beta")
    assert sampler_infotext(*beta, SamplerSettings(), None) == [("Beta schedule alpha", 0.6),
                                                                 ("Beta schedule beta", 0.6)]
    assert sampler_infotext(*resolve_sampler("Euler", "Karras"), SamplerSettings(rho=7.0), None) == []
    assert sampler_infotext(*resolve_sampler("DDIM", None), SamplerSettings(sigma_min=1.0), 0.0) == []


def test_every_sampler_setting_is_a_setting():
    keys = {spec.key for spec in SETTING_SPECS}
    assert set(SamplerSettings.__dataclass_fields__) <= keys
    assert {"eta_ancestral", "eta_ddim"} <= keys
    assert len(SCHEDULES) == 12
