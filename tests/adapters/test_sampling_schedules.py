"""Sigma lists of A1111's schedule types, and the model's sigma <-> timestep maps."""
from __future__ import annotations

import math

import pytest
import torch

from modules.adapters.sampling.schedules import AYS_SD15, AYS_SDXL, SCHEDULE_FUNCTIONS, ScheduleInputs, schedule_sigmas
from modules.core.samplers import SCHEDULES
from tests.adapters.sampling_support import TABLE


def _inputs(steps: int, **kw) -> ScheduleInputs:
    return ScheduleInputs(steps, TABLE.sigma_min, TABLE.sigma_max, TABLE, **kw)


def test_every_schedule_type_but_automatic_has_a_function():
    assert set(SCHEDULE_FUNCTIONS) == {s.name for s in SCHEDULES} - {"automatic"}


@pytest.mark.parametrize("name", sorted(SCHEDULE_FUNCTIONS))
@pytest.mark.parametrize("steps", [1, 4, 10, 25])
def test_descending_from_about_sigma_max(name, steps):
    sigmas = schedule_sigmas(name, _inputs(steps))
    # A1111's DDIM schedule takes every (1000 // steps)-th training sigma from 1, which can be one more.
    expected = len(range(1, 1000, 1000 // steps)) + 1 if name == "ddim" else steps + 1
    assert len(sigmas) == expected
    assert torch.all(sigmas[:-1] > sigmas[1:]), sigmas
    top = float(TABLE.sigmas[range(1, 1000, 1000 // steps)[-1]]) if name == "ddim" else 10
    assert top * 0.999 <= float(sigmas[0]) <= TABLE.sigma_max * 1.001
    if name == "kl_optimal":
        assert float(sigmas[-1]) == pytest.approx(TABLE.sigma_min, rel=1e-5)
    else:
        assert float(sigmas[-1]) == 0.0


def test_karras_values_and_rho():
    sigmas = schedule_sigmas("karras", _inputs(5))
    assert float(sigmas[0]) == pytest.approx(TABLE.sigma_max, rel=1e-5)
    assert float(sigmas[-2]) == pytest.approx(TABLE.sigma_min, rel=1e-5)
    ramp = [(float(s) ** (1 / 7)) for s in sigmas[:-1]]
    gaps = [a - b for a, b in zip(ramp, ramp[1:])]
    assert max(gaps) - min(gaps) < 1e-5, "uniform in sigma^(1/rho)"
    assert not torch.allclose(schedule_sigmas("karras", _inputs(5, rho=3.0)), sigmas)


def test_exponential_is_polyexponential_with_rho_1():
    assert torch.allclose(schedule_sigmas("exponential", _inputs(8)), schedule_sigmas("polyexponential", _inputs(8)))
    assert not torch.allclose(schedule_sigmas("exponential", _inputs(8)),
                              schedule_sigmas("polyexponential", _inputs(8, rho=2.0)))


def test_align_your_steps_tables():
    assert schedule_sigmas("align_your_steps", _inputs(11)).tolist()[:-1] == pytest.approx(AYS_SD15, rel=1e-6)
    sd15, sdxl = schedule_sigmas("align_your_steps", _inputs(10)), schedule_sigmas("align_your_steps",
                                                                                  _inputs(10, sdxl=True))
    assert float(sd15[0]) == pytest.approx(14.615) and float(sd15[-2]) == pytest.approx(0.029)
    assert not torch.allclose(sd15, sdxl)
    doubled = schedule_sigmas("align_your_steps", _inputs(21, sdxl=True)).tolist()
    assert doubled[:-1][::2] == pytest.approx(list(AYS_SDXL), rel=1e-4), "log-linear resampling keeps the knots"


def test_uniform_and_ddim_use_the_training_sigmas():
    assert float(schedule_sigmas("uniform", _inputs(4))[0]) == pytest.approx(TABLE.sigma_max, rel=1e-5)
    ddim = schedule_sigmas("ddim", _inputs(4)).tolist()
    assert ddim[:-1] == pytest.approx([float(TABLE.sigmas[i]) for i in (751, 501, 251, 1)], rel=1e-6)
    simple = schedule_sigmas("simple", _inputs(4)).tolist()
    assert simple[:-1] == pytest.approx([float(TABLE.sigmas[i]) for i in (999, 749, 499, 249)], rel=1e-6)


def test_beta_parameters_change_the_spacing():
    assert not torch.allclose(schedule_sigmas("beta", _inputs(8)),
                              schedule_sigmas("beta", _inputs(8, beta_alpha=0.3, beta_beta=0.9)))


def test_sigma_timestep_maps_are_inverse():
    for t in (0.0, 1.5, 250.25, 998.9):
        assert float(TABLE.sigma_to_t(TABLE.t_to_sigma(t))) == pytest.approx(t, abs=1e-3)
    assert float(TABLE.t_to_sigma(999)) == pytest.approx(TABLE.sigma_max, rel=1e-6)
    assert math.isclose(float(TABLE.sigma_to_t(TABLE.sigma_min)), 0.0, abs_tol=1e-4)
