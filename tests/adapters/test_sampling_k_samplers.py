"""Our own samplers on an analytic model (Gaussian data): deterministic ones converge to the exact
probability-flow solution as steps grow; stochastic ones reach the data distribution."""
from __future__ import annotations

import pytest
import torch

from modules.adapters.sampling.k_dpm_solver import MAX_ADAPTIVE_EVALUATIONS, dpm_fast_orders
from modules.adapters.sampling.k_restart import restart_plan
from modules.adapters.sampling.k_runner import K_FUNCTIONS
from modules.adapters.sampling.schedules import ScheduleInputs, karras
from modules.core.samplers import SAMPLERS
from tests.adapters.sampling_support import MU, S, TABLE, GaussianEps, exact_flow, make_run

# Samplers that are deterministic at eta 0 and end at sigma 0 (DPM fast/adaptive end at sigma_min).
ODE_SAMPLERS = ["euler", "heun", "dpm_2", "lms", "dpmpp_2m", "ddim", "plms", "ddim_cfgpp", "euler_ancestral",
                "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun",
                "dpmpp_3m_sde"]


def _sigmas(steps: int) -> list[float]:
    return karras(ScheduleInputs(steps, TABLE.sigma_min, TABLE.sigma_max, TABLE)).tolist()


def _ode_error(name: str, steps: int) -> float:
    sigmas = _sigmas(steps)
    run, noise = make_run(GaussianEps(), steps, steps)
    x = noise * sigmas[0]
    out = K_FUNCTIONS[name](run, x, sigmas)
    return float((out - exact_flow(x, sigmas[0], 0.0)).abs().max())


def test_every_k_function_named_in_the_table_exists():
    assert {s.k_function for s in SAMPLERS if s.k_function} <= set(K_FUNCTIONS)


FIRST_ORDER = {"euler", "ddim", "ddim_cfgpp", "euler_ancestral"}


@pytest.mark.parametrize("name", ODE_SAMPLERS)
def test_deterministic_samplers_converge_to_the_exact_solution(name):
    coarse, fine = _ode_error(name, 4), _ode_error(name, 40)
    assert fine < (0.1 if name in FIRST_ORDER else 0.02), f"{name}: error {fine} at 40 steps"
    assert fine < coarse or coarse < 1e-3, f"{name}: {coarse} at 4 steps, {fine} at 40"


def test_higher_order_beats_euler():
    assert _ode_error("heun", 10) < _ode_error("euler", 10) / 2
    assert _ode_error("dpmpp_2m", 10) < _ode_error("euler", 10) / 2
    assert _ode_error("heun", 40) < _ode_error("euler", 40) / 10


@pytest.mark.parametrize("name", ["dpm_fast", "dpm_adaptive"])
def test_dpm_solver_ends_at_sigma_min(name):
    model = GaussianEps()
    run, noise = make_run(model, 30, 30)
    sigmas = _sigmas(30)
    x = noise * sigmas[0]
    out = K_FUNCTIONS[name](run, x, sigmas)
    assert float((out - exact_flow(x, sigmas[0], TABLE.sigma_min)).abs().max()) < 0.02
    if name == "dpm_fast":
        assert model.calls == 30, "DPM fast spends exactly `steps` evaluations"
    else:
        assert 3 <= model.calls <= MAX_ADAPTIVE_EVALUATIONS


def test_dpm_fast_orders_add_up():
    for n in range(1, 40):
        orders = dpm_fast_orders(n)
        assert sum(orders) == n and set(orders) <= {1, 2, 3}


@pytest.mark.parametrize("name", ["euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde",
                                  "dpmpp_2m_sde", "dpmpp_3m_sde", "restart", "ddim"])
def test_stochastic_samplers_reach_the_data_distribution(name):
    steps = 100 if name in FIRST_ORDER else 24
    sigmas = _sigmas(steps)
    run, noise = make_run(GaussianEps(), steps, steps, eta=1.0, shape=(1, 4, 64, 64))
    out = K_FUNCTIONS[name](run, noise * sigmas[0], sigmas)
    assert float(out.mean()) == pytest.approx(MU, abs=0.03)
    assert float(out.std()) == pytest.approx(S, rel=0.08)


def test_eta_zero_and_eta_one_differ_for_ancestral():
    sigmas = _sigmas(8)
    outs = []
    for eta in (0.0, 1.0):
        run, noise = make_run(GaussianEps(), 8, 8, eta=eta)
        outs.append(K_FUNCTIONS["euler_ancestral"](run, noise * sigmas[0], sigmas))
    assert not torch.allclose(*outs)


def test_churn_changes_euler_and_reports_every_step():
    sigmas = _sigmas(6)
    reports: list[int] = []
    run, noise = make_run(GaussianEps(), 6, 6, s_churn=1.0, reports=reports)
    churned = K_FUNCTIONS["euler"](run, noise * sigmas[0], sigmas)
    plain_run, _ = make_run(GaussianEps(), 6, 6)
    plain = K_FUNCTIONS["euler"](plain_run, noise * sigmas[0], sigmas)
    assert not torch.allclose(churned, plain)
    assert reports == [1, 2, 3, 4, 5, 6]


def test_second_order_samplers_report_user_steps():
    model, reports = GaussianEps(), []
    run, noise = make_run(model, 5, 5, reports=reports)
    K_FUNCTIONS["heun"](run, noise * _sigmas(5)[0], _sigmas(5))
    assert reports == [1, 2, 3, 4, 5] and model.calls == 9


def test_restart_plan_adds_restart_segments_from_20_steps():
    assert len(restart_plan(_sigmas(10))) == 10
    plan = restart_plan(_sigmas(20))
    assert len(plan) == 20 - 9 + 9, "9 steps moved into one restart segment"
    assert any(b > a for (_, a), (b, _) in zip(plan, plan[1:])), "jumps back up"
    assert len(restart_plan(_sigmas(40))) == 40, "two restart segments of steps // 4"


def test_brownian_noise_is_consistent_and_per_image():
    from modules.adapters.sampling.noise import NoiseSource
    like = torch.zeros(2, 4, 8, 8)
    a = NoiseSource([torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)], like)
    b = NoiseSource([torch.Generator().manual_seed(1)], like[:1])
    first, again = a.brownian(10.0, 5.0), a.brownian(10.0, 5.0)
    assert torch.equal(first, again), "the same interval gives the same increment"
    assert torch.equal(first[:1], b.brownian(10.0, 5.0)), "image 0 does not depend on image 1"
    half = a.brownian(10.0, 7.5) * 2.5 ** 0.5 + a.brownian(7.5, 5.0) * 2.5 ** 0.5
    assert torch.allclose(half, first * 5 ** 0.5, atol=1e-5), "increments add up along the path"


def test_v_prediction_denoiser_gives_the_same_x0():
    from modules.adapters.sampling.denoiser import Denoiser
    from modules.adapters.sampling.types import DenoiserOutput

    eps_model = GaussianEps()

    def v_model(x_in, t, step):
        sigma = float(TABLE.t_to_sigma(t[0]))
        eps = eps_model(x_in, t, step).guided
        x = x_in * (sigma ** 2 + 1) ** 0.5
        x0 = x - sigma * eps
        return DenoiserOutput(guided=(eps - sigma * x0) / (sigma ** 2 + 1) ** 0.5, uncond=None)

    x = torch.randn(1, 4, 8, 8) * 3
    for sigma in (0.05, 1.0, 9.0):
        expected = Denoiser(eps_model, TABLE)(x, sigma, 0)
        assert torch.allclose(Denoiser(v_model, TABLE, v_prediction=True)(x, sigma, 0), expected, atol=1e-4)
