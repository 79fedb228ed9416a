"""X/Y/Z plot: one generation per (x, y, z) value, a labelled grid per Z value and, for several Z values, a grid
of those grids; all in one queued job."""
from __future__ import annotations

import csv
import dataclasses
import io
import itertools
from typing import Any, Mapping

from ..grid_labels import GridLabel, labelled_grid
from ..grids import image_grid
from ..errors import InvalidRequest, JobCancelled
from ..params import GenerationRequest, Img2ImgRequest
from ..results import GeneratedImage, GenerationResult
from ..seeds import resolve_seed
from .base import TABS, Script, ScriptArg, ScriptServices, cell_request
from .script_output import blank_like, script_result, with_fields
from .xyz_axes import AXES, Axis, find_axis
from .xyz_cells import CellRun, run_cells

TITLE = "X/Y/Z plot"
_LABELS = tuple(axis.label for axis in AXES)


def _axis_args(key: str, default: str) -> tuple[ScriptArg, ...]:
    upper = key.upper()
    return (ScriptArg(f"{key}_type", f"{upper} type", "dropdown", default, choices=_LABELS),
            ScriptArg(f"{key}_values", f"{upper} values", "textbox", ""),
            ScriptArg(f"{key}_values_dropdown", f"{upper} values", "dropdown", [], ui=False))


ARGS = (*_axis_args("x", "Seed"), *_axis_args("y", "Nothing"), *_axis_args("z", "Nothing"),
        ScriptArg("draw_legend", "Draw legend", "checkbox", True),
        ScriptArg("include_lone_images", "Include Sub Images", "checkbox", False),
        ScriptArg("include_sub_grids", "Include Sub Grids", "checkbox", False),
        ScriptArg("no_fixed_seeds", "Keep -1 for seeds", "checkbox", False),
        ScriptArg("margin_size", "Grid margins (px)", "slider", 0, minimum=0, maximum=500, step=2),
        ScriptArg("csv_mode", "Use text inputs instead of dropdowns", "checkbox", True, ui=False),
        ScriptArg("raw_mode", "Use raw text lines", "checkbox", False, ui=False))
"""A1111's ``script_args`` order for X/Y/Z plot."""


def _values_text(args: Mapping[str, Any], key: str) -> str:
    """The values text; A1111 clients may send a choice axis's values as the dropdown list instead."""
    text, chosen = str(args[f"{key}_values"] or ""), args.get(f"{key}_values_dropdown") or []
    if chosen and not text.strip():
        out = io.StringIO()
        csv.writer(out).writerow([str(v) for v in chosen])
        return out.getvalue().strip()
    if args.get("raw_mode") and "\n" in text.strip():
        return "\n".join(f'"{line}"' if "," in line else line for line in text.strip().splitlines())
    return text


def _fixed_seeds(axis: Axis, values: list, keep: bool) -> list:
    """A1111: unless "Keep -1 for seeds", a -1 seed value becomes one random seed for its column/row."""
    if keep or axis.label not in ("Seed", "Var. seed"):
        return values
    return [resolve_seed(v) for v in values]


def _parse(services: ScriptServices, request: GenerationRequest, args: Mapping[str, Any]):
    tab = "img2img" if isinstance(request, Img2ImgRequest) else "txt2img"
    axes, values = [], []
    for key in "xyz":
        axis = find_axis(args[f"{key}_type"], tab)
        found = axis.parse(_values_text(args, key), services, request) if axis.label != "Nothing" else [None]
        if not found:
            raise InvalidRequest(f"X/Y/Z plot: {key.upper()} values are empty for {axis.label}")
        axes.append(axis)
        values.append(_fixed_seeds(axis, list(found), bool(args["no_fixed_seeds"])))
    return axes, values


def run(services: ScriptServices, request: GenerationRequest, args: Mapping[str, Any]) -> GenerationResult:
    """Check every axis first, then generate the cells (slow axes outermost) and draw the grids."""
    axes, values = _parse(services, request, args)  # unknown samplers/checkpoints fail here, before any work
    if not args["no_fixed_seeds"]:
        request = dataclasses.replace(request, seed=resolve_seed(request.seed),
                                      subseed=resolve_seed(request.subseed))

    def make(index: tuple[int, int, int]) -> GenerationRequest:
        cell = cell_request(request)
        for axis, vals, i in zip(axes, values, index):
            cell = axis.apply(cell, vals[i], vals)
        return cell
    order = sorted((2, 1, 0), key=lambda a: -axes[a].cost)  # z outermost, x innermost, unless an axis is slow
    ranges = [range(len(v)) for v in values]
    indexes = [tuple(p[order.index(a)] for a in range(3)) for p in itertools.product(*(ranges[a] for a in order))]
    cells = run_cells(services, CellRun(make=make, indexes=indexes, restore_model=any(
        a.label == "Checkpoint name" for a in axes)))
    return _assemble(services, request, args, axes, values, cells)


def _assemble(services, request, args, axes, values, cells) -> GenerationResult:
    xs, ys, zs = values
    if not cells.results:
        raise JobCancelled(f"{TITLE} was interrupted before its first image")
    first = next(r for r in cells.results.values())
    size = first.images[0].image.size if first.images else (request.width, request.height)
    picture = {k: (r.images[0].image if r.images else blank_like(None, size)) for k, r in cells.results.items()}
    margin = int(args["margin_size"])
    sub_grids = []
    for iz in range(len(zs)):
        pics = [picture.get((ix, iy, iz)) or blank_like(None, size) for iy in range(len(ys)) for ix in range(len(xs))]
        if args["draw_legend"]:
            sub_grids.append(labelled_grid(pics, len(ys), [[GridLabel(axes[0].caption(x))] for x in xs],
                                           [[GridLabel(axes[1].caption(y))] for y in ys], margin))
        else:
            sub_grids.append(image_grid(pics, len(ys), margin=margin))
    if len(zs) > 1:
        titles = [[GridLabel(axes[2].caption(z))] for z in zs]
        main = labelled_grid(sub_grids, 1, titles, (), margin) if args["draw_legend"] else image_grid(
            sub_grids, 1, margin=margin)
    else:
        main = sub_grids[0]
    first_image = first.images[0] if first.images else None
    base_text = first_image.infotext if first_image else ""
    text = with_fields(base_text, _script_fields(args, axes, values))
    seed = first_image.seed if first_image else request.seed
    grid = GeneratedImage(image=main, seed=seed, infotext=text,
                          path=services.save_grid(main, request, text, "xyz_grid"))
    extra = []
    if args["include_sub_grids"] and len(zs) > 1:
        extra = [GeneratedImage(image=g, seed=seed, infotext=text,
                                path=services.save_grid(g, request, text, "xyz_grid")) for g in sub_grids]
    singles = [r.images[0] for k, r in sorted(cells.results.items(), key=lambda kv: kv[0][::-1]) if r.images]
    return script_result(first, images=singles if args["include_lone_images"] else (), grid=grid,
                         extra_grids=extra, interrupted=cells.interrupted,
                         warnings=[w for r in cells.results.values() for w in r.warnings])


def _script_fields(args: Mapping[str, Any], axes: list[Axis], values: list[list]) -> list[tuple[str, object]]:
    fields: list[tuple[str, object]] = [("Script", TITLE)]
    for key, axis, vals in zip("XYZ", axes, values):
        if axis.label == "Nothing":
            continue
        fields += [(f"{key} Type", axis.label), (f"{key} Values", _values_text(args, key.lower()))]
        if axis.label in ("Seed", "Var. seed") and not args["no_fixed_seeds"]:
            fields.append((f"Fixed {key} Values", ", ".join(str(v) for v in vals)))
    return fields


def _from_api(values: dict[str, Any], tab: str) -> dict[str, Any]:
    """A1111 sends each axis type as an index into its own axis list; we take that or a label."""
    for key in "xyz":
        given = values.get(f"{key}_type", "Nothing")
        index = str(given).strip()
        values[f"{key}_type"] = find_axis(int(index) if index.isdigit() else given, tab).label
    return values


XYZ_PLOT = Script(title=TITLE, tabs=TABS, args=ARGS, run=run, from_api=_from_api)
