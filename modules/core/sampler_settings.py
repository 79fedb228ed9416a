"""A1111 sampler settings (eta, sigma churn, ENSD, sigma range...), which implementation runs a job, and the
infotext keys A1111 writes for them (only when they differ from its defaults)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import SamplerNotFound
from .samplers import SamplerSpec, ScheduleSpec, effective_schedule, scheduler_options

DIFFUSERS, OURS = "diffusers", "ours"
# Schedule types diffusers' scheduler classes express with a flag or a timestep spacing (see scheduler_options).
_BETA_DEFAULT = 0.6


@dataclass(frozen=True)
class SamplerSettings:
    """The sampler-related settings of one job, as A1111 names them (0 means "model default" for sigmas)."""

    s_churn: float = 0.0
    s_tmin: float = 0.0
    s_tmax: float = 0.0  # 0 means infinity, as in A1111
    s_noise: float = 1.0
    eta_noise_seed_delta: int = 0
    sigma_min: float = 0.0
    sigma_max: float = 0.0
    rho: float = 0.0
    always_discard_next_to_last_sigma: bool = False
    sgm_noise_multiplier: bool = False
    beta_dist_alpha: float = _BETA_DEFAULT
    beta_dist_beta: float = _BETA_DEFAULT
    uni_pc_order: int = 3
    uni_pc_lower_order_final: bool = True

    @property
    def s_tmax_value(self) -> float:
        """``s_tmax`` with A1111's 0 = infinity rule applied."""
        return self.s_tmax or math.inf


_KEYS = tuple(SamplerSettings.__dataclass_fields__)


def sampler_settings(get) -> SamplerSettings:
    """Read the sampler settings through ``get(key)`` (``Settings.get``)."""
    return SamplerSettings(**{key: get(key) for key in _KEYS})


def effective_eta(sampler: SamplerSpec, get) -> float | None:
    """The eta the sampler uses (``eta_ancestral`` or ``eta_ddim``), or None if it takes no eta."""
    if sampler.eta_setting is None:
        return None
    return float(get(sampler.eta_setting))


def choose_runner(sampler: SamplerSpec, schedule: ScheduleSpec, settings: SamplerSettings,
                  eta: float | None) -> str:
    """Return DIFFUSERS or OURS for this job; raise SamplerNotFound for a pair nothing here can run.

    A diffusers sampler runs on our own implementation when its scheduler class cannot express the schedule
    type or a non-default setting (sigma range, churn on Heun, s_noise, eta of an ancestral sampler, ...).

    >>> from modules.core.samplers import resolve_sampler
    >>> choose_runner(*resolve_sampler("Euler a", "Karras"), SamplerSettings(), 1.0)
    'ours'
    >>> choose_runner(*resolve_sampler("Euler a", "Automatic"), SamplerSettings(), 1.0)
    'diffusers'
    """
    if sampler.runner == OURS:
        return OURS
    try:
        scheduler_options(sampler, schedule)
    except SamplerNotFound:
        if sampler.k_function is None:
            raise
        return OURS
    if _needs_ours(sampler, effective_schedule(sampler, schedule), settings, eta):
        if sampler.k_function is None:
            raise SamplerNotFound(f"Sampler {sampler.name} cannot use the sigma settings (sigma_min, sigma_max, "
                                  "rho, sgm_noise_multiplier, discard penultimate sigma) in this version")
        return OURS
    return DIFFUSERS


def _needs_ours(sampler: SamplerSpec, schedule: ScheduleSpec, s: SamplerSettings, eta: float | None) -> bool:
    euler = sampler.scheduler_class == "EulerDiscreteScheduler"  # the only class taking churn and s_noise
    if not sampler.timesteps and (s.sigma_min or s.sigma_max or s.rho or s.sgm_noise_multiplier
                                  or s.always_discard_next_to_last_sigma):
        return True
    if sampler.churn and not euler and s.s_churn:
        return True
    if sampler.s_noise and not euler and s.s_noise != 1.0:
        return True
    if sampler.eta_setting == "eta_ancestral" and eta is not None and eta != 1.0:
        return True
    return schedule.name == "beta" and (s.beta_dist_alpha, s.beta_dist_beta) != (_BETA_DEFAULT, _BETA_DEFAULT)


def uses_ensd(sampler: SamplerSpec, settings: SamplerSettings, eta: float | None) -> bool:
    """A1111 writes ``ENSD`` only when it is set, the sampler draws ENSD noise and eta is not 0."""
    return bool(settings.eta_noise_seed_delta) and sampler.uses_ensd and eta != 0


def sampler_infotext(sampler: SamplerSpec, schedule: ScheduleSpec, settings: SamplerSettings,
                     eta: float | None) -> list[tuple[str, object]]:
    """Extra infotext items A1111 adds while sampling, in its order (sigma list, noise, eta, churn).

    >>> from modules.core.samplers import resolve_sampler
    >>> sampler_infotext(*resolve_sampler("Euler a", None), SamplerSettings(s_noise=0.9), 0.5)
    [('Eta', 0.5), ('Sigma noise', 0.9)]
    >>> sampler_infotext(*resolve_sampler("DDIM", None), SamplerSettings(), 0.25)
    [('Eta DDIM', 0.25)]
    """
    s, items = settings, []
    if not sampler.timesteps:
        if s.always_discard_next_to_last_sigma and not sampler.discard_penultimate:
            items.append(("Discard penultimate sigma", True))
        items += [("Schedule min sigma", s.sigma_min or None), ("Schedule max sigma", s.sigma_max or None)]
        if schedule.default_rho != -1 and s.rho and s.rho != schedule.default_rho:
            items.append(("Schedule rho", s.rho))
        if schedule.name == "beta":
            items += [("Beta schedule alpha", s.beta_dist_alpha), ("Beta schedule beta", s.beta_dist_beta)]
        if s.sgm_noise_multiplier:
            items.append(("SGM noise multiplier", True))
    if eta is not None and eta != (0.0 if sampler.eta_setting == "eta_ddim" else 1.0):
        items.append(("Eta DDIM" if sampler.eta_setting == "eta_ddim" else "Eta", eta))
    if sampler.churn:
        items += [("Sigma churn", s.s_churn or None), ("Sigma tmin", s.s_tmin or None),
                  ("Sigma tmax", s.s_tmax or None)]
    if sampler.s_noise and s.s_noise != 1.0:
        items.append(("Sigma noise", s.s_noise))
    return [(key, value) for key, value in items if value is not None]
