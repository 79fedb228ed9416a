"""Script building blocks without a model: value syntax, axes, prompt matrix, prompts from file, the registry."""
from __future__ import annotations

import pytest

from modules.core.errors import InvalidRequest, SamplerNotFound
from modules.core.params import Img2ImgRequest, Txt2ImgRequest
from modules.core.progress import ProgressTracker
from modules.core.scripts.axis_values import parse_numbers, parse_size, split_values
from modules.core.scripts.prompt_matrix import combinations, matrix_labels
from modules.core.scripts.prompts_from_file import parse_line, parse_lines
from modules.core.scripts.registry import (ScriptNotFound, args_from_api, find_script, list_scripts, script_info,
                                           script_titles)
from modules.core.scripts.xyz_axes import find_axis


@pytest.mark.parametrize("text,integer,expected", [
    ("1-5", True, [1, 2, 3, 4, 5]),
    ("1-10 (+2)", True, [1, 3, 5, 7, 9]),
    ("10-30 [5]", True, [10, 15, 20, 25, 30]),
    ("5-1 (-2)", True, [5, 3, 1]),
    ("1, 3, 8-9", True, [1, 3, 8, 9]),
    ("-1", True, [-1]),
    ("1-2 (+0.25)", False, [1.0, 1.25, 1.5, 1.75, 2.0]),
    ("0-1 [3]", False, [0.0, 0.5, 1.0]),
    ("7, 7.5", False, [7.0, 7.5]),
])
def test_number_syntax(text, integer, expected):
    assert parse_numbers(text, integer) == expected


@pytest.mark.parametrize("text", ["abc", "1.5", "1-5 (+0)", "5-1"])
def test_bad_numbers_raise(text):
    with pytest.raises(InvalidRequest):
        parse_numbers(text, True, "Steps")


def test_csv_quoting_and_sizes():
    assert split_values('"a, b", c') == ["a, b", "c"]
    assert split_values("  ") == []
    assert parse_size("512x768") == (512, 768)
    with pytest.raises(InvalidRequest):
        parse_size("512")


def test_axes_by_label_or_a1111_index():
    assert find_axis("cfg scale", "txt2img").label == "CFG Scale"
    assert find_axis(9, "txt2img").label == "Sampler" and find_axis(6, "txt2img").label == "CFG Scale"
    assert find_axis(9, "img2img").label == "Sampler" and find_axis(22, "img2img").label == "Denoising"
    with pytest.raises(InvalidRequest):
        find_axis("Hires steps", "img2img")
    with pytest.raises(InvalidRequest):
        find_axis("Prompt order", "txt2img")
    sampler = find_axis("Sampler", "txt2img")
    assert sampler.parse("euler a, ddim", None, Txt2ImgRequest()) == ["Euler a", "DDIM"]
    with pytest.raises(SamplerNotFound):
        sampler.parse("Euler, nope", None, Txt2ImgRequest())
    replace = find_axis("Prompt S/R", "txt2img")
    with pytest.raises(InvalidRequest):
        replace.parse("dog, cat", None, Txt2ImgRequest(prompt="a bird"))
    request = Txt2ImgRequest(prompt="a dog", negative_prompt="dog hair")
    changed = replace.apply(request, "cat", ["dog", "cat"])
    assert (changed.prompt, changed.negative_prompt) == ("a cat", "cat hair")
    assert find_axis("CFG Scale", "txt2img").caption(7.0) == "CFG Scale: 7.0"
    assert find_axis("Sampler", "txt2img").caption("DDIM") == "DDIM"
    clip = find_axis("Clip skip", "txt2img").apply(request, 2, [2])
    assert clip.override_settings == {"CLIP_stop_at_last_layers": 2}
    size = find_axis("Size", "txt2img")
    assert size.apply(request, *size.parse("64x96", None, request)[:1], []).width == 64


def test_prompt_matrix_combinations_and_labels():
    assert combinations("a|b|c|d")[5] == "a, b, d"
    assert len(combinations("a|b|c|d")) == 8
    assert combinations("x|y", at_start=True) == ["x", "y, x"]
    columns, rows, count = matrix_labels(["b", "c", "d"])
    assert count == 2 and len(columns) == 4 and len(rows) == 2
    assert [(label.text, label.active) for label in rows[1]] == [("d", True)]


def test_prompts_from_file_lines():
    assert parse_lines("a cat\n\n  --prompt \"a dog\" --negative_prompt ugly blurry --seed 5\n") == [
        {"prompt": "a cat"}, {"prompt": "a dog", "negative_prompt": "ugly blurry", "seed": 5}]
    assert parse_line("--width 64 --height 96 --sampler_name euler --steps 3 --cfg_scale 2.5") == {
        "width": 64, "height": 96, "sampler_name": "Euler", "steps": 3, "cfg_scale": 2.5}
    for bad in ("--nope 1", "--steps", "--steps many"):
        with pytest.raises(InvalidRequest):
            parse_line(bad)


def test_registry_titles_info_and_api_args():
    assert script_titles() == {
        "txt2img": ["prompt matrix", "prompts from file or textbox", "x/y/z plot"],
        "img2img": ["outpainting mk2", "poor man's outpainting", "prompt matrix", "prompts from file or textbox",
                    "x/y/z plot"]}
    assert [s.title for s in list_scripts("txt2img")] == ["Prompt matrix", "Prompts from file or textbox",
                                                          "X/Y/Z plot"]
    info = script_info()
    xyz = next(i for i in info if i["name"] == "x/y/z plot" and not i["is_img2img"])
    assert [a["label"] for a in xyz["args"]][:3] == ["X type", "X values", "X values"]
    assert "Hires steps" in xyz["args"][0]["choices"]
    with pytest.raises(ScriptNotFound):
        find_script("Loopback", "txt2img")
    with pytest.raises(ScriptNotFound):
        find_script("Poor man's outpainting", "txt2img")
    script = find_script("X/Y/Z PLOT", "img2img")
    args = args_from_api(script, [4, "2-3", [], "CFG Scale", "", ["3", "5"], 0, "", [], False], "img2img")
    assert (args["x_type"], args["y_type"], args["draw_legend"], args["margin_size"]) == ("Steps", "CFG Scale",
                                                                                          False, 0)
    with pytest.raises(InvalidRequest):
        args_from_api(script, [0] * 30, "img2img")
    matrix = args_from_api(find_script("prompt matrix", "txt2img"), [True, True, "negative", "space", 4], "txt2img")
    assert matrix == {"put_at_start": True, "different_seeds": True, "prompt_type": "negative",
                      "variations_delimiter": "space", "margin_size": 4}
    assert find_script("outpainting mk2", "img2img").tabs == ("img2img",)
    assert isinstance(Img2ImgRequest(), Txt2ImgRequest.__mro__[1])


def test_progress_counts_every_cell():
    tracker = ProgressTracker(clock=lambda: 10.0)
    tracker.begin("txt2img", job_count=1, timestamp="")
    tracker.set_cell(2, 4)
    tracker.begin("txt2img", job_count=1, timestamp="")  # each cell's generation begins again
    tracker.begin_batch(0, 10)
    tracker.step(5)
    snap = tracker.snapshot()
    assert (snap.job_no, snap.job_count) == (2, 4)
    assert snap.progress == pytest.approx(25 / 40)
    tracker.finish()
    assert tracker.snapshot().job_count == 0
