"""Sampler and schedule-type tables: A1111 names and aliases, defaults, diffusers scheduler class and options."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from modules.core.errors import SamplerNotFound


@dataclass(frozen=True)
class SamplerSpec:
    """One sampler: display name, aliases, default schedule name and the diffusers class with its options."""

    name: str
    aliases: tuple[str, ...]
    default_schedule: str | None
    scheduler_class: str
    options: Mapping[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule type: internal name, UI/infotext label and aliases."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()


def _sampler(name: str, aliases: tuple[str, ...], default: str | None, cls: str, **options: object) -> SamplerSpec:
    return SamplerSpec(name, aliases, default, cls, MappingProxyType(dict(options)))


_DPM_MULTI = "DPMSolverMultistepScheduler"

SAMPLERS: tuple[SamplerSpec, ...] = (
    _sampler("DPM++ 2M", ("k_dpmpp_2m",), "karras", _DPM_MULTI,
             algorithm_type="dpmsolver++", solver_type="midpoint", solver_order=2),
    _sampler("DPM++ 2M SDE", ("k_dpmpp_2m_sde",), "exponential", _DPM_MULTI,
             algorithm_type="sde-dpmsolver++", solver_type="midpoint", solver_order=2),
    _sampler("DPM++ 2M SDE Heun", ("k_dpmpp_2m_sde_heun",), "exponential", _DPM_MULTI,
             algorithm_type="sde-dpmsolver++", solver_type="heun", solver_order=2),
    _sampler("Euler a", ("k_euler_a", "k_euler_ancestral"), None, "EulerAncestralDiscreteScheduler"),
    _sampler("Euler", ("k_euler",), None, "EulerDiscreteScheduler"),
    _sampler("LMS", ("k_lms",), None, "LMSDiscreteScheduler"),
    _sampler("Heun", ("k_heun",), None, "HeunDiscreteScheduler"),
    _sampler("DPM2", ("k_dpm_2",), "karras", "KDPM2DiscreteScheduler"),
    _sampler("DPM2 a", ("k_dpm_2_a",), "karras", "KDPM2AncestralDiscreteScheduler"),
    _sampler("DDIM", ("ddim",), None, "DDIMScheduler"),
    _sampler("PLMS", ("plms",), None, "PNDMScheduler", skip_prk_steps=True),
    # diffusers' bh1 variant reaches sigma 0 with an infinite step size (NaN images), so we use its bh2.
    _sampler("UniPC", ("unipc",), None, "UniPCMultistepScheduler", solver_type="bh2", solver_order=3),
    _sampler("LCM", ("k_lcm",), None, "LCMScheduler"),
)

SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("automatic", "Automatic"),
    ScheduleSpec("uniform", "Uniform"),
    ScheduleSpec("karras", "Karras"),
    ScheduleSpec("exponential", "Exponential"),
    ScheduleSpec("sgm_uniform", "SGM Uniform", ("SGMUniform",)),
    ScheduleSpec("simple", "Simple"),
    ScheduleSpec("beta", "Beta"),
)

# Default schedules of A1111 samplers we cannot run; used only to read old infotexts (legacy name suffixes).
_OTHER_A1111_DEFAULTS = MappingProxyType({
    "dpm++ sde": "karras", "dpm++ 2s a": "karras", "dpm++ 3m sde": "exponential", "restart": "karras",
})

# diffusers 0.42.1: classes whose __init__ accepts use_karras/exponential/beta_sigmas, and those whose
# set_timesteps honours timestep_spacing (LCMScheduler accepts the kwarg but ignores it).
_SIGMA_CLASSES = frozenset({
    _DPM_MULTI, "EulerDiscreteScheduler", "LMSDiscreteScheduler", "HeunDiscreteScheduler",
    "KDPM2DiscreteScheduler", "KDPM2AncestralDiscreteScheduler", "UniPCMultistepScheduler",
    "DPMSolverSDEScheduler",
})
_SPACING_CLASSES = _SIGMA_CLASSES | {"EulerAncestralDiscreteScheduler", "DDIMScheduler", "PNDMScheduler"}
_SIGMA_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
_SIGMA_FLAG_OF = MappingProxyType(
    {"karras": "use_karras_sigmas", "exponential": "use_exponential_sigmas", "beta": "use_beta_sigmas"})
_SPACING_OF = MappingProxyType({"uniform": "linspace", "sgm_uniform": "trailing", "simple": "trailing"})


def find_sampler(name: str | None) -> SamplerSpec | None:
    """Return the sampler whose display name or alias equals `name` (case-insensitive), else None."""
    key = (name or "").strip().lower()
    for spec in SAMPLERS:
        if key == spec.name.lower() or key in (a.lower() for a in spec.aliases):
            return spec
    return None


def find_schedule(name: str | None) -> ScheduleSpec | None:
    """Return the schedule whose name, label or alias equals `name` (case-insensitive), else None."""
    key = (name or "").strip().lower()
    for spec in SCHEDULES:
        if key in (spec.name.lower(), spec.label.lower(), *(a.lower() for a in spec.aliases)):
            return spec
    return None


def split_schedule_suffix(name: str) -> tuple[str, ScheduleSpec | None]:
    """Split a legacy "<sampler> <schedule>" name into the sampler part and the schedule, if any.

    >>> stem, schedule = split_schedule_suffix("DPM++ 2M Karras")
    >>> stem, schedule.label
    ('DPM++ 2M', 'Karras')
    >>> split_schedule_suffix("Euler a")
    ('Euler a', None)
    """
    lowered = name.lower()
    for spec in SCHEDULES:
        for option in (spec.label, spec.name, *spec.aliases):
            suffix = " " + option.lower()
            if lowered.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)], spec
    return name, None


def a1111_default_schedule(sampler_name: str) -> str | None:
    """Return the default schedule name A1111 uses for a sampler display name (also for samplers we lack)."""
    spec = find_sampler(sampler_name)
    if spec is not None:
        return spec.default_schedule
    return _OTHER_A1111_DEFAULTS.get(sampler_name.strip().lower())


def resolve_sampler(sampler_name: str | None, scheduler: str | None) -> tuple[SamplerSpec, ScheduleSpec]:
    """Resolve request names to specs; accepts aliases, case variants and legacy "<name> <schedule>" forms.

    An empty sampler name means the first sampler (A1111's default); an empty scheduler means Automatic.

    >>> sampler, schedule = resolve_sampler("dpm++ 2m karras", None)
    >>> sampler.name, schedule.label
    ('DPM++ 2M', 'Karras')
    """
    name = (sampler_name or "").strip() or SAMPLERS[0].name
    explicit = (scheduler or "").strip()
    schedule = find_schedule(explicit) if explicit else SCHEDULES[0]
    if schedule is None:
        raise SamplerNotFound(f"Scheduler not found: {explicit}")
    sampler = find_sampler(name)
    if sampler is None:
        stem, suffix = split_schedule_suffix(name)
        sampler = find_sampler(stem) if suffix is not None else None
        if sampler is None:
            raise SamplerNotFound(f"Sampler not found: {name}")
        if schedule.name == "automatic":
            schedule = suffix
    return sampler, schedule


def effective_schedule(sampler: SamplerSpec, schedule: ScheduleSpec) -> ScheduleSpec:
    """Replace Automatic by the sampler's default schedule where it has one (the infotext `Schedule type`)."""
    if schedule.name != "automatic" or sampler.default_schedule is None:
        return schedule
    found = find_schedule(sampler.default_schedule)
    return found if found is not None else schedule


def scheduler_options(sampler: SamplerSpec, schedule: ScheduleSpec) -> dict[str, object]:
    """Return the `from_config` kwargs for a sampler/schedule pair; raise SamplerNotFound if unsupported.

    Apply them over the checkpoint's original scheduler config: every sigma flag the class knows is set
    explicitly, while `timestep_spacing` is only set by schedules that need it.

    >>> sampler, schedule = resolve_sampler("DPM++ 2M", "Automatic")
    >>> scheduler_options(sampler, schedule)["use_karras_sigmas"]
    True
    """
    effective = effective_schedule(sampler, schedule)
    cls = sampler.scheduler_class
    options = dict(sampler.options)
    if cls in _SIGMA_CLASSES:
        options.update({flag: False for flag in _SIGMA_FLAGS})
    if effective.name in _SIGMA_FLAG_OF and cls in _SIGMA_CLASSES:
        options[_SIGMA_FLAG_OF[effective.name]] = True
    elif effective.name in _SPACING_OF and cls in _SPACING_CLASSES:
        options["timestep_spacing"] = _SPACING_OF[effective.name]
    elif effective.name != "automatic":
        raise SamplerNotFound(f"Schedule type {effective.label} is not available for sampler {sampler.name}")
    return options
