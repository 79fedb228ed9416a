"""The built-in scripts by title, what ``GET /sdapi/v1/scripts`` and ``script-info`` show, A1111's positional
``script_args`` turned into named values, and running a script as one queued job."""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import InvalidRequest, ScriptNotFound
from ..params import GenerationRequest, Img2ImgRequest
from ..results import GenerationResult
from .base import TABS, Script, ScriptArg, ScriptServices
from .outpainting import OUTPAINTING_MK2, POOR_MANS_OUTPAINTING
from .prompt_matrix import PROMPT_MATRIX
from .prompts_from_file import PROMPTS_FROM_FILE
from .xyz_axes import axes_for
from .xyz_plot import XYZ_PLOT

__all__ = ["SCRIPTS", "ScriptNotFound", "arg_choices", "args_from_api", "find_script", "list_scripts",
           "run_script", "script_info", "script_titles", "tab_of"]

SCRIPTS: tuple[Script, ...] = (OUTPAINTING_MK2, POOR_MANS_OUTPAINTING, PROMPT_MATRIX, PROMPTS_FROM_FILE, XYZ_PLOT)
"""In A1111's dropdown order (by file name)."""


def list_scripts(tab: str) -> list[Script]:
    """The scripts of the ``"txt2img"`` or ``"img2img"`` tab, in dropdown order."""
    return [script for script in SCRIPTS if tab in script.tabs]


def tab_of(request: GenerationRequest) -> str:
    """``"img2img"`` for an `Img2ImgRequest`, else ``"txt2img"``."""
    return "img2img" if isinstance(request, Img2ImgRequest) else "txt2img"


def find_script(name: str, tab: str) -> Script:
    """The script titled ``name`` (case-insensitive) for the tab; raise `ScriptNotFound`."""
    wanted = (name or "").strip().lower()
    for script in list_scripts(tab):
        if script.title.lower() == wanted:
            return script
    raise ScriptNotFound(f"Script not found: {name} (available for {tab}: "
                         f"{', '.join(s.title for s in list_scripts(tab))})")


def arg_choices(script: Script, arg: ScriptArg, tab: str) -> tuple[str, ...] | None:
    """An argument's choices on one tab (X/Y/Z axis types differ between txt2img and img2img)."""
    if script is XYZ_PLOT and arg.name.endswith("_type"):
        return tuple(axis.label for axis in axes_for(tab))
    return arg.choices


def script_titles() -> dict[str, list[str]]:
    """``GET /sdapi/v1/scripts``: lower-case titles per tab."""
    return {tab: [script.title.lower() for script in list_scripts(tab)] for tab in TABS}


def script_info() -> list[dict[str, Any]]:
    """``GET /sdapi/v1/script-info``: each script once per tab, with its arguments in ``script_args`` order."""
    return [{"name": script.title.lower(), "is_alwayson": False, "is_img2img": tab == "img2img",
             "args": [{"label": arg.label, "value": arg.default, "minimum": arg.minimum, "maximum": arg.maximum,
                       "step": arg.step, "choices": list(arg_choices(script, arg, tab) or ()) or None}
                      for arg in script.args]}
            for tab in TABS for script in list_scripts(tab)]


def args_from_api(script: Script, script_args: Sequence[Any] | None, tab: str) -> dict[str, Any]:
    """Named values from A1111's positional ``script_args`` (missing ones take defaults; extra ones are an
    error); raise InvalidRequest for values of the wrong type."""
    given = list(script_args or ())
    if len(given) > len(script.args):
        raise InvalidRequest(f"{script.title}: expected at most {len(script.args)} script_args, got {len(given)}")
    values = {arg.name: value for arg, value in zip(script.args, given)}
    values = script.bind(values)
    return script.from_api(values, tab) if script.from_api is not None else values


def run_script(services: ScriptServices, script: Script, request: GenerationRequest,
               args: dict[str, Any]) -> GenerationResult:
    """Run ``script`` on the tab's request with named ``args`` as ONE job in the queue; each generation it makes
    joins that job (the UI calls this from a queued job; the API may call it directly)."""
    values = script.bind(args)
    with services.jobs.turn(script.title.lower(), source=request.source):
        return script.run(services, request, values)
