"""Sampler and schedule-type tables: A1111 names and aliases, defaults, diffusers scheduler class and options."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from modules.core.errors import SamplerNotFound


@dataclass(frozen=True)
class SamplerSpec:
    """One sampler: display name, aliases, default schedule, what runs it and which A1111 settings it takes.

    ``runner`` is ``"diffusers"`` (a diffusers scheduler class with options) or ``"ours"`` (our own k-diffusion
    style function ``k_function`` in ``adapters/sampling``). A diffusers sampler with a ``k_function`` falls back
    to ours for schedule types and settings its scheduler class cannot express.
    """

    name: str
    aliases: tuple[str, ...]
    default_schedule: str | None
    scheduler_class: str | None
    options: Mapping[str, object] = field(default_factory=dict, hash=False)
    runner: str = "diffusers"
    k_function: str | None = None
    eta_setting: str | None = None  # "eta_ancestral" or "eta_ddim": the setting that feeds its eta
    churn: bool = False  # takes s_churn / s_tmin / s_tmax
    s_noise: bool = False
    uses_ensd: bool = False
    discard_penultimate: bool = False
    timesteps: bool = False  # A1111 runs it on timesteps (DDIM family), not on a k-diffusion sigma list
    second_order: bool = False  # two model evaluations per step
    brownian_noise: bool = False

    def a1111_options(self) -> dict[str, object]:
        """The ``options`` object A1111's ``GET /sdapi/v1/samplers`` shows for this sampler."""
        flags = {"discard_next_to_last_sigma": self.discard_penultimate, "uses_ensd": self.uses_ensd,
                 "second_order": self.second_order, "brownian_noise": self.brownian_noise}
        options: dict[str, object] = {"scheduler": self.default_schedule} if self.default_schedule else {}
        options.update({key: True for key, on in flags.items() if on})
        if self.k_function == "dpmpp_2m_sde_heun":
            options["solver_type"] = "heun"
        return options


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule type: internal name, UI/infotext label, aliases and A1111's listing metadata."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    default_rho: float = -1.0
    need_inner_model: bool = False


def _sampler(name: str, aliases: tuple[str, ...], default: str | None, cls: str | None, traits: str = "",
             k: str | None = None, **options: object) -> SamplerSpec:
    """Build a spec; ``traits`` is a space-separated word list (ours, anc, ddim, churn, noise, ensd, discard, ts,
    2nd, brownian)."""
    words = set(traits.split())
    eta = "eta_ancestral" if "anc" in words else "eta_ddim" if "ddim" in words else None
    return SamplerSpec(name, aliases, default, cls, MappingProxyType(dict(options)),
                       runner="ours" if "ours" in words else "diffusers", k_function=k, eta_setting=eta,
                       churn="churn" in words, s_noise="noise" in words, uses_ensd="ensd" in words,
                       discard_penultimate="discard" in words, timesteps="ts" in words,
                       second_order="2nd" in words, brownian_noise="brownian" in words)


_DPM_MULTI = "DPMSolverMultistepScheduler"

# UI order and traits as in A1111 v1.10. Samplers marked "ours" have no faithful diffusers scheduler (DPM2 and
# DPM2 a have one, but it does not discard the penultimate sigma as A1111 does).
SAMPLERS: tuple[SamplerSpec, ...] = (
    _sampler("DPM++ 2M", ("k_dpmpp_2m",), "karras", _DPM_MULTI, "", "dpmpp_2m",
             algorithm_type="dpmsolver++", solver_type="midpoint", solver_order=2),
    _sampler("DPM++ SDE", ("k_dpmpp_sde",), "karras", None, "ours anc noise 2nd brownian", "dpmpp_sde"),
    _sampler("DPM++ 2M SDE", ("k_dpmpp_2m_sde",), "exponential", _DPM_MULTI, "anc noise brownian", "dpmpp_2m_sde",
             algorithm_type="sde-dpmsolver++", solver_type="midpoint", solver_order=2),
    _sampler("DPM++ 2M SDE Heun", ("k_dpmpp_2m_sde_heun",), "exponential", _DPM_MULTI, "anc noise brownian",
             "dpmpp_2m_sde_heun", algorithm_type="sde-dpmsolver++", solver_type="heun", solver_order=2),
    _sampler("DPM++ 2S a", ("k_dpmpp_2s_a",), "karras", None, "ours anc noise ensd 2nd", "dpmpp_2s_ancestral"),
    _sampler("DPM++ 3M SDE", ("k_dpmpp_3m_sde",), "exponential", None, "ours anc noise discard brownian", "dpmpp_3m_sde"),
    _sampler("Euler a", ("k_euler_a", "k_euler_ancestral"), None, "EulerAncestralDiscreteScheduler",
             "anc noise ensd", "euler_ancestral"),
    _sampler("Euler", ("k_euler",), None, "EulerDiscreteScheduler", "churn noise", "euler"),
    _sampler("LMS", ("k_lms",), None, "LMSDiscreteScheduler", "", "lms"),
    _sampler("Heun", ("k_heun",), None, "HeunDiscreteScheduler", "churn noise 2nd", "heun"),
    _sampler("DPM2", ("k_dpm_2",), "karras", None, "ours churn noise discard 2nd", "dpm_2"),
    _sampler("DPM2 a", ("k_dpm_2_a",), "karras", None, "ours anc noise ensd discard 2nd", "dpm_2_ancestral"),
    _sampler("DPM fast", ("k_dpm_fast",), None, None, "ours anc noise ensd", "dpm_fast"),
    _sampler("DPM adaptive", ("k_dpm_ad",), None, None, "ours anc noise ensd", "dpm_adaptive"),
    _sampler("Restart", ("restart",), "karras", None, "ours noise 2nd", "restart"),
    _sampler("DDIM", ("ddim",), None, "DDIMScheduler", "ddim ts", "ddim"),
    _sampler("DDIM CFG++", ("ddim_cfgpp",), None, None, "ours ddim ts", "ddim_cfgpp"),
    _sampler("PLMS", ("plms",), None, "PNDMScheduler", "ts", "plms", skip_prk_steps=True),
    # diffusers' bh1 variant reaches sigma 0 with an infinite step size (NaN images), so we use its bh2
    # (A1111's uni_pc_variant is not offered); uni_pc_order and uni_pc_lower_order_final apply per job.
    _sampler("UniPC", ("unipc",), None, "UniPCMultistepScheduler", "ts", None, solver_type="bh2", solver_order=3),
    _sampler("LCM", ("k_lcm",), None, "LCMScheduler", "", "lcm"),
)

SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("automatic", "Automatic"),
    ScheduleSpec("uniform", "Uniform", need_inner_model=True),
    ScheduleSpec("karras", "Karras", default_rho=7.0),
    ScheduleSpec("exponential", "Exponential"),
    ScheduleSpec("polyexponential", "Polyexponential", default_rho=1.0),
    ScheduleSpec("sgm_uniform", "SGM Uniform", ("SGMUniform",), need_inner_model=True),
    ScheduleSpec("kl_optimal", "KL Optimal"),
    ScheduleSpec("align_your_steps", "Align Your Steps"),
    ScheduleSpec("simple", "Simple", need_inner_model=True),
    ScheduleSpec("normal", "Normal", need_inner_model=True),
    ScheduleSpec("ddim", "DDIM", need_inner_model=True),
    ScheduleSpec("beta", "Beta", need_inner_model=True),
)

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
    """Return the default schedule name A1111 uses for a sampler display name (None if it has none)."""
    spec = find_sampler(sampler_name)
    return spec.default_schedule if spec is not None else None


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
    if cls is None:
        raise SamplerNotFound(f"Sampler {sampler.name} has no diffusers scheduler")
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
