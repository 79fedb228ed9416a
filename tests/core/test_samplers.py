"""Tests for modules.core.samplers: tables, name lookup, schedule defaults and diffusers options."""
from __future__ import annotations

import ast
import doctest
import importlib.util
from pathlib import Path

import pytest

from modules.core import samplers
from modules.core.errors import SamplerNotFound
from modules.core.samplers import (
    SAMPLERS,
    SCHEDULES,
    a1111_default_schedule,
    effective_schedule,
    find_schedule,
    resolve_sampler,
    scheduler_options,
    split_schedule_suffix,
)


def test_doctests():
    assert doctest.testmod(samplers).failed == 0


def test_ui_order_and_names():
    names = [s.name for s in SAMPLERS]
    assert names == ["DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2S a", "DPM++ 3M SDE",
                     "Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM fast", "DPM adaptive", "Restart",
                     "DDIM", "DDIM CFG++", "PLMS", "UniPC", "LCM"]
    assert [s.label for s in SCHEDULES] == ["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential",
                                             "SGM Uniform", "KL Optimal", "Align Your Steps", "Simple", "Normal",
                                             "DDIM", "Beta"]


def test_every_sampler_has_an_implementation():
    for spec in SAMPLERS:
        assert spec.runner in ("diffusers", "ours"), spec.name
        assert spec.scheduler_class if spec.runner == "diffusers" else spec.k_function, spec.name


def test_a1111_listing_options():
    options = {s.name: s.a1111_options() for s in SAMPLERS}
    assert options["DPM++ 2M"] == {"scheduler": "karras"}
    assert options["DPM++ SDE"] == {"scheduler": "karras", "second_order": True, "brownian_noise": True}
    assert options["DPM2 a"] == {"scheduler": "karras", "discard_next_to_last_sigma": True, "uses_ensd": True,
                                 "second_order": True}
    assert options["DPM++ 2M SDE Heun"]["solver_type"] == "heun"
    assert options["Euler a"] == {"uses_ensd": True} and options["DDIM"] == {} and options["LCM"] == {}
    rho = {s.label: s.default_rho for s in SCHEDULES}
    assert rho["Karras"] == 7.0 and rho["Polyexponential"] == 1.0 and rho["Exponential"] == -1


def test_specs_are_frozen_and_hashable():
    spec = SAMPLERS[0]
    with pytest.raises(AttributeError):
        spec.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.options["solver_order"] = 3  # type: ignore[index]
    assert hash(spec) == hash(SAMPLERS[0])


@pytest.mark.parametrize("given, expected", [
    ("DPM++ 2M", "DPM++ 2M"), ("dpm++ 2m", "DPM++ 2M"), ("k_dpmpp_2m", "DPM++ 2M"),
    ("k_euler_ancestral", "Euler a"), ("EULER A", "Euler a"), ("k_dpm_2_a", "DPM2 a"), ("plms", "PLMS"),
    ("k_dpmpp_2s_a", "DPM++ 2S a"), ("k_dpm_ad", "DPM adaptive"), ("ddim_cfgpp", "DDIM CFG++"),
    ("DDIM CFG++", "DDIM CFG++"), ("restart", "Restart"), ("k_dpmpp_3m_sde", "DPM++ 3M SDE"),
])
def test_resolve_by_name_alias_and_case(given, expected):
    sampler, schedule = resolve_sampler(given, None)
    assert sampler.name == expected
    assert schedule.label == "Automatic"


@pytest.mark.parametrize("given, sampler_name, label", [
    ("DPM++ 2M Karras", "DPM++ 2M", "Karras"),
    ("Euler a Automatic", "Euler a", "Automatic"),
    ("DPM++ 2M SDE Exponential", "DPM++ 2M SDE", "Exponential"),
    ("Euler SGMUniform", "Euler", "SGM Uniform"),
    ("euler sgm_uniform", "Euler", "SGM Uniform"),
    ("DPM++ SDE Karras", "DPM++ SDE", "Karras"),
    ("DPM++ 2S a Karras", "DPM++ 2S a", "Karras"),
    ("Euler Align Your Steps", "Euler", "Align Your Steps"),
    ("DDIM CFG++ KL Optimal", "DDIM CFG++", "KL Optimal"),
])
def test_legacy_suffix(given, sampler_name, label):
    sampler, schedule = resolve_sampler(given, "")
    assert (sampler.name, schedule.label) == (sampler_name, label)


def test_explicit_scheduler_wins_over_suffix():
    sampler, schedule = resolve_sampler("DPM++ 2M Karras", "Exponential")
    assert (sampler.name, schedule.label) == ("DPM++ 2M", "Exponential")


def test_scheduler_lookup_by_name_label_alias():
    assert resolve_sampler("Euler", "karras")[1].name == "karras"
    assert resolve_sampler("Euler", "SGM Uniform")[1].name == "sgm_uniform"
    assert resolve_sampler("Euler", "SGMUniform")[1].name == "sgm_uniform"


def test_empty_sampler_is_first():
    assert resolve_sampler(None, None)[0].name == "DPM++ 2M"
    assert resolve_sampler("", None)[0].name == "DPM++ 2M"


def test_unknown_names_raise():
    with pytest.raises(SamplerNotFound, match="^Sampler not found: Foo$"):
        resolve_sampler("Foo", None)
    with pytest.raises(SamplerNotFound, match="^Sampler not found: DPM slow$"):
        resolve_sampler("DPM slow", None)
    with pytest.raises(SamplerNotFound, match="^Sampler not found: Foo Karras$"):
        resolve_sampler("Foo Karras", None)
    with pytest.raises(SamplerNotFound, match="^Scheduler not found: Quadratic$"):
        resolve_sampler("Euler", "Quadratic")


def test_split_schedule_suffix():
    assert split_schedule_suffix("Karras") == ("Karras", None)
    stem, schedule = split_schedule_suffix("DPM++ 2S a Karras")
    assert stem == "DPM++ 2S a" and schedule is not None and schedule.name == "karras"


def test_a1111_default_schedule():
    assert a1111_default_schedule("DPM++ 2M") == "karras"
    assert a1111_default_schedule("DPM++ 2S a") == "karras"
    assert a1111_default_schedule("DPM++ 3M SDE") == "exponential"
    assert a1111_default_schedule("Euler a") is None
    assert a1111_default_schedule("Nope") is None


@pytest.mark.parametrize("name, label", [
    ("DPM++ 2M", "Karras"), ("DPM2", "Karras"), ("DPM2 a", "Karras"), ("DPM++ 2M SDE", "Exponential"),
    ("DPM++ 2M SDE Heun", "Exponential"), ("Euler a", "Automatic"), ("Euler", "Automatic"),
    ("DDIM", "Automatic"), ("UniPC", "Automatic"), ("LCM", "Automatic"), ("DPM++ SDE", "Karras"),
    ("DPM++ 2S a", "Karras"), ("DPM++ 3M SDE", "Exponential"), ("Restart", "Karras"), ("DPM fast", "Automatic"),
    ("DPM adaptive", "Automatic"), ("DDIM CFG++", "Automatic"),
])
def test_effective_schedule(name, label):
    sampler, schedule = resolve_sampler(name, "Automatic")
    assert effective_schedule(sampler, schedule).label == label


def test_effective_schedule_keeps_explicit_choice():
    sampler, schedule = resolve_sampler("DPM++ 2M", "Uniform")
    assert effective_schedule(sampler, schedule).label == "Uniform"


def test_scheduler_options_examples():
    opts = scheduler_options(*resolve_sampler("DPM++ 2M", None))
    assert opts["algorithm_type"] == "dpmsolver++" and opts["use_karras_sigmas"] is True
    assert opts["use_exponential_sigmas"] is False and "timestep_spacing" not in opts
    opts = scheduler_options(*resolve_sampler("DPM++ 2M SDE Heun", None))
    assert opts["solver_type"] == "heun" and opts["use_exponential_sigmas"] is True
    assert scheduler_options(*resolve_sampler("Euler", "Beta"))["use_beta_sigmas"] is True
    assert scheduler_options(*resolve_sampler("Euler a", "SGM Uniform")) == {"timestep_spacing": "trailing"}
    assert scheduler_options(*resolve_sampler("Euler a", "Simple")) == {"timestep_spacing": "trailing"}
    assert scheduler_options(*resolve_sampler("DDIM", "Uniform")) == {"timestep_spacing": "linspace"}
    assert scheduler_options(*resolve_sampler("Euler a", None)) == {}
    assert scheduler_options(*resolve_sampler("PLMS", None)) == {"skip_prk_steps": True}


@pytest.mark.parametrize("name, schedule", [
    ("Euler a", "Karras"), ("DDIM", "Exponential"), ("PLMS", "Beta"), ("LCM", "Karras"), ("LCM", "Uniform"),
    ("LCM", "SGM Uniform"), ("Euler", "Polyexponential"), ("UniPC", "KL Optimal"),
])
def test_schedules_without_a_diffusers_flag(name, schedule):
    with pytest.raises(SamplerNotFound, match=f"Schedule type {schedule} is not available for sampler {name}"):
        scheduler_options(*resolve_sampler(name, schedule))


def _diffusers_init_params() -> dict[str, set[str]] | None:
    spec = importlib.util.find_spec("diffusers")
    if spec is None or spec.origin is None:
        return None
    found: dict[str, set[str]] = {}
    for path in (Path(spec.origin).parent / "schedulers").glob("scheduling_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        found[node.name] = {a.arg for a in item.args.args[1:]}
    return found


def test_options_are_accepted_by_the_diffusers_classes():
    params = _diffusers_init_params()
    if params is None:
        pytest.skip("diffusers not installed")
    checked = 0
    for sampler in SAMPLERS:
        if sampler.runner == "ours":
            continue
        assert sampler.scheduler_class in params, sampler.scheduler_class
        for schedule in SCHEDULES:
            try:
                opts = scheduler_options(sampler, schedule)
            except SamplerNotFound:
                continue
            assert set(opts) <= params[sampler.scheduler_class], (sampler.name, schedule.label)
            checked += 1
    assert checked > 40
    assert find_schedule("karras") is not None
