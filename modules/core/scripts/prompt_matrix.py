"""Prompt matrix: ``base|a|b|c`` makes every combination of the optional parts (2^n images) in one job and a grid
whose headers show which parts each row and column has."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ..errors import InvalidRequest, JobCancelled
from ..grid_labels import GridLabel, labelled_grid
from ..params import GenerationRequest
from ..results import GeneratedImage, GenerationResult
from ..seeds import resolve_seed
from .base import TABS, Script, ScriptArg, ScriptServices, cell_request
from .script_output import blank_like, script_result, with_fields
from .xyz_cells import CellRun, run_cells

TITLE = "Prompt matrix"
ARGS = (ScriptArg("put_at_start", "Put variable parts at start of prompt", "checkbox", False),
        ScriptArg("different_seeds", "Use different seed for each picture", "checkbox", False),
        ScriptArg("prompt_type", "Select prompt", "radio", "positive", choices=("positive", "negative")),
        ScriptArg("variations_delimiter", "Select joining char", "radio", "comma", choices=("comma", "space")),
        ScriptArg("margin_size", "Grid margins (px)", "slider", 0, minimum=0, maximum=500, step=2))
"""A1111's ``script_args`` order for Prompt matrix."""


def combinations(text: str, *, at_start: bool = False, delimiter: str = ", ") -> list[str]:
    """Every prompt of the matrix: combination ``i`` has option ``n`` when bit ``n`` of ``i`` is set.

    >>> combinations("a cat|red|hat")
    ['a cat', 'a cat, red', 'a cat, hat', 'a cat, red, hat']
    >>> combinations("cat|red", at_start=True, delimiter=" ")
    ['cat', 'red cat']
    """
    base, *options = text.split("|")
    prompts = []
    for number in range(2 ** len(options)):
        chosen = [part.strip().strip(",") for n, part in enumerate(options) if number & (1 << n)]
        parts = [*chosen, base] if at_start else [base, *chosen]
        prompts.append(delimiter.join(part for part in parts if part or len(parts) == 1))
    return prompts


def matrix_labels(options: list[str]) -> tuple[list[list[GridLabel]], list[list[GridLabel]], int]:
    """(column headers, row headers, rows): the first half of the options vary along a row, the rest down the
    columns; each header lists its options, those left out greyed.

    >>> cols, rows, count = matrix_labels(["red", "hat", "big"])
    >>> count, [[(l.text, l.active) for l in c] for c in cols][1]
    (2, [('red', True), ('hat', False)])
    """
    across = (len(options) + 1) // 2
    columns = [[GridLabel(o, bool(i & (1 << n))) for n, o in enumerate(options[:across])] for i in range(2 ** across)]
    down = options[across:]
    rows = [[GridLabel(o, bool(j & (1 << n))) for n, o in enumerate(down)] for j in range(2 ** len(down))]
    return columns, rows, 2 ** len(down)


def run(services: ScriptServices, request: GenerationRequest, args: Mapping[str, Any]) -> GenerationResult:
    """One generation per combination (same seed unless "different seed"), then the labelled grid."""
    negative = args["prompt_type"] == "negative"
    text = request.negative_prompt if negative else request.prompt
    if "|" not in text:
        raise InvalidRequest(f"Prompt matrix: the {args['prompt_type']} prompt has no | parts")
    delimiter = ", " if args["variations_delimiter"] == "comma" else " "
    prompts = combinations(text, at_start=bool(args["put_at_start"]), delimiter=delimiter)
    seed = resolve_seed(request.seed)
    request = dataclasses.replace(request, seed=seed, subseed=resolve_seed(request.subseed))
    field = "negative_prompt" if negative else "prompt"

    def make(i: int) -> GenerationRequest:
        return cell_request(request, **{field: prompts[i]}, seed=seed + i if args["different_seeds"] else seed)
    cells = run_cells(services, CellRun(make=make, indexes=range(len(prompts)), kind=TITLE.lower()))
    if not cells.results:
        raise JobCancelled(f"{TITLE} was interrupted before its first image")
    firsts = [cells.results[i].images[0] for i in sorted(cells.results) if cells.results[i].images]
    columns, rows, count = matrix_labels([part.strip() for part in text.split("|")[1:]])
    pictures = [img.image for img in firsts]
    pictures += [blank_like(pictures[0], (0, 0)) for _ in range(len(prompts) - len(pictures))] if pictures else []
    grid_image = labelled_grid(pictures, count, columns, rows, int(args["margin_size"]))
    first = cells.results[min(cells.results)]
    info = with_fields(firsts[0].infotext, [("Script", TITLE)]) if firsts else ""
    grid = GeneratedImage(image=grid_image, seed=seed, infotext=info,
                          path=services.save_grid(grid_image, request, info, "prompt_matrix"))
    return script_result(first, images=firsts, grid=grid, interrupted=cells.interrupted)


PROMPT_MATRIX = Script(title=TITLE, tabs=TABS, args=ARGS, run=run)
