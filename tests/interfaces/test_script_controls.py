"""The Script controls: one group per script, the tab's values turned into the script's arguments."""
from __future__ import annotations

import gradio as gr

from modules.interfaces.gradio_ui.img2img_layout import SCRIPTS
from modules.interfaces.gradio_ui.script_controls import (build_script_controls, script_args, script_input_keys,
                                                          selected_script, ui_scripts)


def _controls(tab: str = "txt2img") -> dict:
    c: dict = {}
    with gr.Blocks():
        build_script_controls(c, tab)
    return c


def test_dropdown_lists_none_and_the_scripts():
    c = _controls()
    assert [choice[0] for choice in c["script"].choices] == ["None", "Prompt matrix", "Prompts from file or textbox",
                                                              "X/Y/Z plot"]
    assert c["script_group_x_y_z_plot"].visible is False
    axis_choices = [choice[0] for choice in c["script_x_y_z_plot_x_type"].choices]
    assert "Hires steps" in axis_choices and "Checkpoint name" in axis_choices
    assert c["script_x_y_z_plot_x_type"].value == "Seed"


def test_values_become_named_script_args():
    c = _controls()
    values = {key: c[key].value for key in script_input_keys(c)}
    values.update(script="X/Y/Z plot", script_x_y_z_plot_x_type="Sampler", script_x_y_z_plot_x_values="Euler",
                  script_x_y_z_plot_margin_size=4.0)
    script = selected_script(values, "txt2img")
    args = script_args(values, script)
    assert script.title == "X/Y/Z plot"
    assert (args["x_type"], args["x_values"], args["margin_size"], args["draw_legend"]) == ("Sampler", "Euler", 4,
                                                                                          True)
    assert args["x_values_dropdown"] == [] and args["csv_mode"] is True
    assert selected_script({**values, "script": "None"}, "txt2img") is None


def test_img2img_keeps_its_outpainting_scripts_apart():
    assert [s.title for s in ui_scripts("img2img", skip=SCRIPTS)] == ["Prompt matrix",
                                                                      "Prompts from file or textbox", "X/Y/Z plot"]
    assert selected_script({"script": "Outpainting mk2"}, "img2img") is None
