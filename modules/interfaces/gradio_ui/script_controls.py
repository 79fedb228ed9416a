"""The "Script" controls of the txt2img and img2img tabs: one group of controls per built-in script, shown only
while it is selected, and running the selected script as one queued job."""
from __future__ import annotations

import re
from typing import Any

import gradio as gr

from modules.core.context import AppContext
from modules.core.params import GenerationRequest
from modules.core.results import GenerationResult
from modules.core.scripts.base import Script, ScriptArg, ScriptServices
from modules.core.scripts.registry import arg_choices, find_script, list_scripts, run_script

NONE = "None"


def _slug(title: str) -> str:
    """``"X/Y/Z plot"`` -> ``"x_y_z_plot"`` (for element ids and component keys)."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def _key(script: Script, arg: ScriptArg) -> str:
    return f"script_{_slug(script.title)}_{arg.name}"


def ui_scripts(tab: str, skip: tuple[str, ...] = ()) -> list[Script]:
    """The registry scripts this tab shows controls for (``skip``: titles the tab handles itself)."""
    return [script for script in list_scripts(tab) if script.title not in skip]


def _widget(script: Script, arg: ScriptArg, tab: str) -> gr.components.Component:
    elem_id = f"script_{tab}_{_slug(script.title)}_{arg.name}"
    choices = arg_choices(script, arg, tab)
    if arg.kind == "checkbox":
        return gr.Checkbox(label=arg.label, value=arg.default, elem_id=elem_id)
    if arg.kind == "slider":
        return gr.Slider(arg.minimum, arg.maximum, value=arg.default, step=arg.step, label=arg.label,
                         elem_id=elem_id)
    if arg.kind == "dropdown":
        return gr.Dropdown(list(choices or ()), value=arg.default, label=arg.label, elem_id=elem_id)
    if arg.kind == "radio":
        return gr.Radio(list(choices or ()), value=arg.default, label=arg.label, elem_id=elem_id)
    if arg.kind == "checkboxgroup":
        return gr.CheckboxGroup(list(choices or ()), value=arg.default, label=arg.label, elem_id=elem_id)
    lines = 4 if arg.name == "prompt_txt" else 1
    return gr.Textbox(label=arg.label, value=arg.default, lines=lines, elem_id=elem_id)


def build_script_groups(c: dict, tab: str, scripts: list[Script]) -> None:
    """One hidden group per script, its controls in ``c`` under ``script_<slug>_<arg>``."""
    for script in scripts:
        with gr.Group(visible=False, elem_id=f"script_{tab}_{_slug(script.title)}") as group:
            c[f"script_group_{_slug(script.title)}"] = group
            for arg in script.args:
                if arg.ui:
                    c[_key(script, arg)] = _widget(script, arg, tab)
            if any(arg.name == "prompt_txt" for arg in script.args):
                _upload_into(c[f"script_{_slug(script.title)}_prompt_txt"], f"script_{tab}_prompt_file")


def _upload_into(textbox: gr.Textbox, elem_id: str) -> None:
    """A1111's "Upload prompt inputs": a text file's lines replace the textbox's text."""
    upload = gr.File(label="Upload prompt inputs", type="binary", elem_id=elem_id)

    def read(data: bytes | None):
        if data is None:
            return gr.skip()
        return "\n".join(line.strip() for line in data.decode("utf-8", errors="ignore").splitlines())
    upload.change(read, inputs=upload, outputs=textbox, queue=False)


def build_script_controls(c: dict, tab: str) -> None:
    """The "Script" dropdown ("None" + the tab's scripts) and the scripts' groups (txt2img)."""
    scripts = ui_scripts(tab)
    c["script"] = gr.Dropdown([NONE, *(s.title for s in scripts)], value=NONE, label="Script",
                              elem_id=f"{tab}_script")
    build_script_groups(c, tab, scripts)


def wire_script_groups(c: dict, scripts: list[Script]) -> None:
    """Show the selected script's group only."""
    groups = [c[f"script_group_{_slug(s.title)}"] for s in scripts]
    titles = [s.title for s in scripts]
    c["script"].change(lambda chosen: [gr.Group(visible=chosen == title) for title in titles],
                       inputs=c["script"], outputs=groups, queue=False)


def script_input_keys(c: dict) -> list[str]:
    """The component keys of every script control (the Generate handler reads them)."""
    return [key for key in c if key.startswith("script_") and not key.startswith("script_group_")]


def selected_script(v: dict, tab: str) -> Script | None:
    """The registry script chosen in the dropdown, or None (``"None"`` or a script the tab runs itself)."""
    title = v.get("script") or NONE
    if title == NONE or not any(key.startswith(f"script_{_slug(title)}_") for key in v):
        return None
    return find_script(title, tab)


def script_args(v: dict, script: Script) -> dict[str, Any]:
    """The script's argument values from the tab's named values (API-only positions take defaults)."""
    values = {arg.name: v[_key(script, arg)] for arg in script.args if arg.ui and _key(script, arg) in v}
    return script.bind(values)


def run_selected(ctx: AppContext, script: Script, request: GenerationRequest, v: dict) -> GenerationResult:
    """Run the script on the tab's request (call this inside the queued job's work)."""
    return run_script(ScriptServices.from_context(ctx), script, request, script_args(v, script))
