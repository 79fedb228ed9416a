"""Prompts from file or textbox: one generation per non-empty line, in one job. A line is a prompt, or
``--prompt "..." --steps 10``-style options (A1111's names)."""
from __future__ import annotations

import dataclasses
import shlex
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..errors import InvalidRequest, JobCancelled
from ..params import GenerationRequest
from ..results import GenerationResult
from ..samplers import resolve_sampler
from ..seeds import resolve_seed
from .base import TABS, Script, ScriptArg, ScriptServices, cell_request
from .script_output import script_result
from .xyz_cells import CellRun, run_cells

TITLE = "Prompts from file or textbox"
ARGS = (ScriptArg("checkbox_iterate", "Iterate seed every line", "checkbox", False),
        ScriptArg("checkbox_iterate_batch", "Use same random seed for all lines", "checkbox", False),
        ScriptArg("prompt_position", "Insert prompts at the", "radio", "start", choices=("start", "end")),
        ScriptArg("prompt_txt", "List of prompt inputs", "textbox", ""))
"""A1111's ``script_args`` order (older clients send three: no ``prompt_position``; `_from_api` handles it)."""


def _flag(text: str) -> bool:
    return text.strip().lower() == "true"


def _sampler(text: str) -> str:
    return resolve_sampler(text, None)[0].name


OPTIONS: Mapping[str, Callable[[str], object]] = MappingProxyType({
    "prompt": str, "negative_prompt": str, "seed": int, "subseed": int, "subseed_strength": float,
    "seed_resize_from_h": int, "seed_resize_from_w": int, "sampler_name": _sampler, "scheduler": str,
    "batch_size": int, "n_iter": int, "steps": int, "cfg_scale": float, "width": int, "height": int,
    "denoising_strength": float, "styles": lambda text: tuple(s.strip() for s in text.split(",") if s.strip()),
    "do_not_save_samples": _flag, "do_not_save_grid": _flag,
})
"""The ``--name value`` options a line may set (A1111's tags we support)."""


def parse_line(line: str) -> dict[str, object]:
    """A line's request changes: ``{"prompt": line}``, or its ``--name value`` options (``--prompt`` and
    ``--negative_prompt`` take every word up to the next ``--``); raise InvalidRequest naming the problem.

    >>> parse_line('--prompt a red cat --steps 10 --cfg_scale 4.5')
    {'prompt': 'a red cat', 'steps': 10, 'cfg_scale': 4.5}
    >>> parse_line("just a prompt")
    {'prompt': 'just a prompt'}
    """
    if "--" not in line:
        return {"prompt": line}
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise InvalidRequest(f"Prompts from file: cannot read {line!r}: {exc}") from None
    found: dict[str, object] = {}
    pos = 0
    while pos < len(words):
        word = words[pos]
        if not word.startswith("--"):
            raise InvalidRequest(f"Prompts from file: expected an option starting with --, got {word!r}")
        name = word[2:]
        if name not in OPTIONS:
            raise InvalidRequest(f"Prompts from file: unknown option --{name}")
        end = pos + 2
        if name in ("prompt", "negative_prompt"):
            while end < len(words) and not words[end].startswith("--"):
                end += 1
        if pos + 1 >= len(words):
            raise InvalidRequest(f"Prompts from file: --{name} needs a value")
        try:
            found[name] = OPTIONS[name](" ".join(words[pos + 1:end]))
        except ValueError:
            raise InvalidRequest(f"Prompts from file: bad value for --{name}: {words[pos + 1]!r}") from None
        pos = end
    return found


def parse_lines(text: str) -> list[dict[str, object]]:
    """Every non-empty line's changes."""
    return [parse_line(line.strip()) for line in text.splitlines() if line.strip()]


def _apply(request: GenerationRequest, changes: dict[str, object], position: str) -> GenerationRequest:
    changes = dict(changes)
    if request.prompt and "prompt" in changes:  # A1111's "Insert prompts at the": the main prompt stays
        changes["prompt"] = (f"{changes['prompt']} {request.prompt}" if position == "start"
                             else f"{request.prompt} {changes['prompt']}")
    if changes.pop("do_not_save_samples", False):
        changes["save_images"] = False
    return dataclasses.replace(request, **changes)


def run(services: ScriptServices, request: GenerationRequest, args: Mapping[str, Any]) -> GenerationResult:
    """One generation per line (seeds: as given; "iterate" adds batch_size*n_iter per line; "same random seed"
    resolves -1 once for all lines); the result holds every image, no grid (A1111)."""
    jobs = parse_lines(str(args["prompt_txt"] or ""))
    if not jobs:
        raise InvalidRequest("Prompts from file: the list of prompt inputs is empty")
    if args["checkbox_iterate"] or args["checkbox_iterate_batch"]:
        request = dataclasses.replace(request, seed=resolve_seed(request.seed))
    step = request.batch_size * request.n_iter if args["checkbox_iterate"] else 0

    def make(i: int) -> GenerationRequest:
        base = cell_request(request, seed=request.seed + i * step if request.seed != -1 else -1)
        return _apply(base, jobs[i], str(args["prompt_position"]))
    cells = run_cells(services, CellRun(make=make, indexes=range(len(jobs)), kind=TITLE.lower()))
    if not cells.results:
        raise JobCancelled(f"{TITLE} was interrupted before its first image")
    images = [img for i in sorted(cells.results) for img in cells.results[i].images]
    return script_result(cells.results[0], images=images, grid=None, interrupted=cells.interrupted)


def _from_api(values: dict[str, Any], _tab: str) -> dict[str, Any]:
    """Older clients send (iterate, same seed, text): the text lands in ``prompt_position``."""
    if values.get("prompt_position") not in ("start", "end"):
        values["prompt_txt"], values["prompt_position"] = values["prompt_position"], "start"
    return values


PROMPTS_FROM_FILE = Script(title=TITLE, tabs=TABS, args=ARGS, run=run, from_api=_from_api)
