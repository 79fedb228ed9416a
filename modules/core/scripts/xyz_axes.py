"""The X/Y/Z plot axes: A1111's labels, how their values are read and checked (before any work), and how a value
changes a cell's request."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from ..errors import InvalidRequest
from ..params import GenerationRequest
from ..samplers import find_schedule, resolve_sampler
from .axis_values import parse_numbers, parse_size, split_values
from .base import TABS, ScriptServices

Parse = Callable[[str, ScriptServices, GenerationRequest], list]
Apply = Callable[[GenerationRequest, Any, Sequence[Any]], GenerationRequest]


@dataclass(frozen=True)
class Axis:
    """One axis type: ``parse(text, services, request)`` -> checked values; ``apply(request, value, values)``;
    ``labelled`` cells read "Label: value" (A1111), else the value alone; ``cost`` orders the loops (slow outer)."""

    label: str
    parse: Parse
    apply: Apply
    labelled: bool = True
    tabs: tuple[str, ...] = TABS
    cost: float = 0.0

    def caption(self, value: Any) -> str:
        """The header text of one value."""
        if self.label == "Nothing":
            return ""
        if isinstance(value, tuple):
            value = f"{value[0]}x{value[1]}"
        elif isinstance(value, float):
            value = round(value, 8)
        return f"{self.label}: {value}" if self.labelled else str(value)


def _numbers(integer: bool, label: str) -> Parse:
    return lambda text, _s, _r: parse_numbers(text, integer, label)


def _field(name: str) -> Apply:
    return lambda request, value, _values: dataclasses.replace(request, **{name: value})


def _override(key: str) -> Apply:
    return lambda request, value, _values: dataclasses.replace(
        request, override_settings={**request.override_settings, key: value})


def _samplers(text: str, _s: ScriptServices, _r: GenerationRequest) -> list:
    return [resolve_sampler(name, None)[0].name for name in split_values(text)]  # SamplerNotFound before work


def _schedules(text: str, _s: ScriptServices, _r: GenerationRequest) -> list:
    found = [(name, find_schedule(name)) for name in split_values(text)]
    unknown = [name for name, spec in found if spec is None]
    if unknown:
        raise InvalidRequest(f"Schedule type: unknown {', '.join(unknown)}")
    return [spec.label for _, spec in found]


def _checkpoints(text: str, services: ScriptServices, _r: GenerationRequest) -> list:
    return [services.catalog.find(name).title for name in split_values(text)]  # ModelNotFound before work


def _vaes(text: str, services: ScriptServices, _r: GenerationRequest) -> list:
    known = {name.lower(): name for name in ("Automatic", "None", *services.vae_names())}
    values = split_values(text)
    unknown = [v for v in values if v.lower() not in known]
    if unknown:
        raise InvalidRequest(f"VAE: unknown {', '.join(unknown)}")
    return [known[v.lower()] for v in values]


def _search_replace(text: str, _s: ScriptServices, request: GenerationRequest) -> list:
    values = split_values(text)
    if values and values[0] not in request.prompt and values[0] not in request.negative_prompt:
        raise InvalidRequest(f"Prompt S/R did not find {values[0]} in prompt or negative prompt.")
    return values


def _replace_prompt(request: GenerationRequest, value: str, values: Sequence[str]) -> GenerationRequest:
    return dataclasses.replace(request, prompt=request.prompt.replace(values[0], value),
                               negative_prompt=request.negative_prompt.replace(values[0], value))


def _sizes(text: str, _s: ScriptServices, _r: GenerationRequest) -> list:
    return [parse_size(v) for v in split_values(text)]


def _size(request: GenerationRequest, value: tuple[int, int], _values: Sequence) -> GenerationRequest:
    return dataclasses.replace(request, width=value[0], height=value[1])


AXES: tuple[Axis, ...] = (
    Axis("Nothing", lambda _t, _s, _r: [None], lambda request, _v, _vs: request, labelled=False),
    Axis("Seed", _numbers(True, "Seed"), _field("seed")),
    Axis("Var. seed", _numbers(True, "Var. seed"), _field("subseed")),
    Axis("Var. strength", _numbers(False, "Var. strength"), _field("subseed_strength")),
    Axis("Steps", _numbers(True, "Steps"), _field("steps")),
    Axis("Hires steps", _numbers(True, "Hires steps"), _field("hr_second_pass_steps"), tabs=("txt2img",)),
    Axis("CFG Scale", _numbers(False, "CFG Scale"), _field("cfg_scale")),
    Axis("Prompt S/R", _search_replace, _replace_prompt, labelled=False),
    Axis("Sampler", _samplers, _field("sampler_name"), labelled=False),
    Axis("Checkpoint name", _checkpoints, _field("checkpoint"), labelled=False, cost=1.0),
    Axis("Schedule type", _schedules, _field("scheduler")),
    Axis("Clip skip", _numbers(True, "Clip skip"), _override("CLIP_stop_at_last_layers")),
    Axis("Denoising", _numbers(False, "Denoising"), _field("denoising_strength")),
    Axis("VAE", _vaes, _override("sd_vae"), cost=0.7),
    Axis("Size", _sizes, _size),
)

A1111_AXIS_ORDER: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "txt2img": ("Nothing", "Seed", "Var. seed", "Var. strength", "Steps", "Hires steps", "CFG Scale", "Prompt S/R",
                "Prompt order", "Sampler", "Hires sampler", "Checkpoint name", "Negative Guidance minimum sigma",
                "Sigma Churn", "Sigma min", "Sigma max", "Sigma noise", "Schedule type", "Schedule min sigma",
                "Schedule max sigma", "Schedule rho", "Eta", "Clip skip", "Denoising", "Initial noise multiplier",
                "Extra noise", "Hires upscaler", "VAE"),
    "img2img": ("Nothing", "Seed", "Var. seed", "Var. strength", "Steps", "CFG Scale", "Image CFG Scale",
                "Prompt S/R", "Prompt order", "Sampler", "Checkpoint name", "Negative Guidance minimum sigma",
                "Sigma Churn", "Sigma min", "Sigma max", "Sigma noise", "Schedule type", "Schedule min sigma",
                "Schedule max sigma", "Schedule rho", "Eta", "Clip skip", "Denoising", "Initial noise multiplier",
                "Extra noise", "Cond. Image Mask Weight", "VAE"),
})
"""A1111's axis lists (``X type`` is an index into them in its ``script_args``), up to the last axis we have."""


def axes_for(tab: str) -> tuple[Axis, ...]:
    """The axes the tab offers, in dropdown order."""
    return tuple(axis for axis in AXES if tab in axis.tabs)


def find_axis(name: Any, tab: str) -> Axis:
    """An axis by label (case-insensitive) or by A1111's index for the tab; raise InvalidRequest."""
    if isinstance(name, int) and not isinstance(name, bool):
        order = A1111_AXIS_ORDER[tab]
        if not 0 <= name < len(order):
            raise InvalidRequest(f"X/Y/Z plot: no axis number {name}")
        name = order[name]
    wanted = str(name).strip().lower()
    for axis in axes_for(tab):
        if axis.label.lower() == wanted:
            return axis
    raise InvalidRequest(f"X/Y/Z plot: unsupported axis {name!r}; choose one of "
                         f"{', '.join(a.label for a in axes_for(tab))}")
