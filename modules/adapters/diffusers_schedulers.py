"""Turn a SamplerSpec/ScheduleSpec pair into a diffusers scheduler via ``from_config``."""
from __future__ import annotations

import diffusers

from modules.core.errors import SamplerNotFound
from modules.core.samplers import SamplerSpec, ScheduleSpec, scheduler_options


def make_scheduler(base_config: dict, sampler: SamplerSpec, schedule: ScheduleSpec,
                   overrides: dict[str, object] | None = None):
    """A fresh scheduler of the sampler's class configured from the model's own scheduler config
    (``overrides``: per-job options from settings, applied last)."""
    cls = getattr(diffusers, sampler.scheduler_class, None)
    if cls is None:
        raise SamplerNotFound(f"Sampler {sampler.name} is not available in this diffusers version")
    options = dict(sampler.options)
    options.update(scheduler_options(sampler, schedule))
    options.update(overrides or {})
    return cls.from_config(base_config, **options)
