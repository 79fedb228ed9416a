"""Tests for modules.core.infotext: writer layout and quoting, field order, reader rules, robustness."""
from __future__ import annotations

import doctest
import random
import re
import time

import pytest

from modules.core import infotext
from modules.core.infotext import (
    MAX_INFOTEXT_CHARS,
    PARAMETER_ORDER,
    format_infotext,
    order_fields,
    parse_infotext,
    split_infotext,
    split_parameter_line,
)

EXAMPLE_WILD = (
    "…prompt…\n"
    "Negative prompt: …\n"
    "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1535177732, Size: 512x512, "
    "Model hash: ec6a1ba636, Model: epicrealism_v10-inpainting, Denoising strength: 0.7, "
    "Conditional mask weight: 1, Hires upscale: 2, Hires steps: 25, Hires upscaler: R-ESRGAN 4x+, Version: v1.9.3"
)
EXAMPLE_HIRES = (
    "masterpiece, cozy cabin in snowy woods, (warm light:1.2) <lora:add_detail:0.6>\n"
    "Negative prompt: lowres, blurry, easynegative\n"
    "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, "
    "VAE: vae-ft-mse-840000-ema-pruned.safetensors, Denoising strength: 0.5, Clip skip: 2, Hires upscale: 2, "
    "Hires steps: 10, Hires upscaler: Latent, Lora hashes: \"add_detail: 7c6bad76eb54\", "
    "TI hashes: \"easynegative: c74b4e810b03\", Version: v1.10.1"
)
A1111_ITEM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def test_doctests():
    assert doctest.testmod(infotext).failed == 0


@pytest.mark.parametrize("text", [EXAMPLE_WILD, EXAMPLE_HIRES])
def test_examples_round_trip_byte_exact(text):
    parts = split_infotext(text)
    assert format_infotext(parts.prompt, parts.negative_prompt, parts.fields) == text


def test_hires_example_built_from_fixed_and_extra_fields():
    fixed = {"Steps": 25, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": 7, "Seed": 1234567890,
             "Size": "512x768", "Model hash": "6ce0161689", "Model": "v1-5-pruned-emaonly",
             "VAE hash": "735e4c3a44", "VAE": "vae-ft-mse-840000-ema-pruned.safetensors",
             "Clip skip": 2, "Denoising strength": None, "RNG": None}
    extra = [("Denoising strength", 0.5), ("Hires upscale", 2), ("Hires steps", 10), ("Hires upscaler", "Latent"),
             ("Lora hashes", "add_detail: 7c6bad76eb54"), ("TI hashes", "easynegative: c74b4e810b03")]
    fields = order_fields(fixed, extra, "v1.10.1")
    text = format_infotext("masterpiece, cozy cabin in snowy woods, (warm light:1.2) <lora:add_detail:0.6>",
                           "lowres, blurry, easynegative", fields)
    assert text == EXAMPLE_HIRES


def test_parse_hires_example():
    info = parse_infotext(EXAMPLE_HIRES)
    assert info["Prompt"] == "masterpiece, cozy cabin in snowy woods, (warm light:1.2) <lora:add_detail:0.6>"
    assert info["Negative prompt"] == "lowres, blurry, easynegative"
    assert info["Steps"] == "25" and info["CFG scale"] == "7" and info["Seed"] == "1234567890"
    assert (info["Size-1"], info["Size-2"]) == (512, 768)
    assert info["Lora hashes"] == "add_detail: 7c6bad76eb54"
    assert info["TI hashes"] == "easynegative: c74b4e810b03"
    assert info["Clip skip"] == "2" and info["Schedule type"] == "Karras"
    assert info["Emphasis"] == "Original" and info["RNG"] == "GPU"
    assert info["Version"] == "v1.10.1"


def test_writer_layout():
    assert format_infotext("", "", [("Steps", 20), ("Sampler", "Euler"), ("CFG scale", 7.0)]) == \
        "Steps: 20, Sampler: Euler, CFG scale: 7.0"
    assert format_infotext("  p  ", "n", [("Steps", 20)]) == "p  \nNegative prompt: n\nSteps: 20"
    assert format_infotext("a\nb", "", []) == "a\nb"


@pytest.mark.parametrize("value, written", [
    (7, "7"), (7.0, "7.0"), (0.5, "0.5"), (True, "True"), ("a b", "a b"),
    ("a, b", '"a, b"'), ("a:b", '"a:b"'), ("l1\nl2", '"l1\\nl2"'), ('q "x", y', '"q \\"x\\", y"'),
    ("héllo, wörld", '"héllo, wörld"'), ([1, 2], "[1, 2]"),
])
def test_quoting(value, written):
    assert format_infotext("", "", [("K", value), ("A", 1), ("B", 2)]) == f"K: {written}, A: 1, B: 2"


def test_order_fields():
    fixed = {key: i for i, key in enumerate(reversed(PARAMETER_ORDER))}
    ordered = order_fields(fixed, [("Extra", "e"), ("Steps", "x")], "ver", "bob")
    keys = [k for k, _ in ordered]
    assert keys == [*PARAMETER_ORDER, "Extra", "Version", "User"]
    assert ordered[0] == ("Steps", "x")
    assert order_fields({"Steps": 1}, [], None) == [("Steps", 1)]
    with pytest.raises(ValueError):
        order_fields({"Hires upscale": 2}, [], None)


def test_parameter_order_table():
    assert PARAMETER_ORDER[:4] == ("Steps", "Sampler", "Schedule type", "CFG scale")
    assert PARAMETER_ORDER[-1] == "Tiling" and len(PARAMETER_ORDER) == 26


def test_reader_needs_three_items():
    parts = split_infotext("a cat\nSteps: 20, Sampler: Euler")
    assert parts.prompt == "a cat\nSteps: 20, Sampler: Euler" and parts.fields == ()
    info = parse_infotext("Steps: 20, Sampler: Euler, CFG scale: 7")
    assert info["Prompt"] == "" and info["Steps"] == "20"


def test_reader_multiline_prompts_and_crlf():
    text = "line1\r\n  line2  \r\nNegative prompt: n1\r\nn2\r\nSteps: 1, Sampler: Euler, Seed: 3\r\n"
    info = parse_infotext(text)
    assert info["Prompt"] == "line1\nline2"
    assert info["Negative prompt"] == "n1\nn2"
    assert info["Seed"] == "3"


def test_reader_quoted_values():
    info = parse_infotext('p\nSteps: 1, Hires prompt: "a, b\\nc", Bad: "x\\q", Seed: 2')
    assert info["Hires prompt"] == "a, b\nc"
    assert info["Bad"] == '"x\\q"'  # invalid JSON escape: raw text kept
    assert info["Seed"] == "2"


def test_reader_defaults():
    info = parse_infotext("p\nSteps: 1, Sampler: Euler, Seed: 2")
    assert info["Clip skip"] == "1" and info["Hires resize-1"] == 0 and info["Hires resize-2"] == 0
    assert info["Hires sampler"] == "Use same sampler" and info["Schedule type"] == "Automatic"
    assert info["Masked area padding"] == 32 and info["FP8 weight"] == "Disable"
    assert info["Refiner switch by sampling steps"] is False
    assert "Emphasis" not in info and "Cache FP16 weight for LoRA" not in info
    assert "Size-1" not in info


def test_reader_size_like_values():
    info = parse_infotext("p\nSteps: 1, Hires resize: 1024x768, Seed resize from: 64x32, Size: 12x")
    assert (info["Hires resize-1"], info["Hires resize-2"]) == (1024, 768)
    assert (info["Seed resize from-1"], info["Seed resize from-2"]) == (64, 32)
    assert info["Size"] == "12x" and "Size-1" not in info


@pytest.mark.parametrize("sampler, expected, schedule", [
    ("DPM++ 2M Karras", "DPM++ 2M", "Automatic"),
    ("DPM++ 2M Exponential", "DPM++ 2M", "Exponential"),
    ("Euler a Automatic", "Euler a", "Automatic"),
    ("DPM++ 2M SDE Exponential", "DPM++ 2M SDE", "Automatic"),
    ("DPM++ 2S a Karras", "DPM++ 2S a", "Automatic"),
    ("Euler", "Euler", "Automatic"),
    ("DPM++ 2M SDE Heun", "DPM++ 2M SDE Heun", "Automatic"),
])
def test_reader_legacy_sampler_names(sampler, expected, schedule):
    info = parse_infotext(f"p\nSteps: 20, Sampler: {sampler}, Seed: 1")
    assert (info["Sampler"], info["Schedule type"]) == (expected, schedule)


def test_reader_legacy_keys():
    info = parse_infotext("p\nSteps: 20, Hypernet: anime, Hypernet strength: 0.5, Seed: 1")
    assert info["Prompt"] == "p<hypernet:anime:0.5>"
    info = parse_infotext("p\nSteps: 20, Size: 1024x1024, First pass size: 0x0, Seed: 1")
    assert (info["Size-1"], info["Size-2"], info["Hires resize-1"]) == (512, 512, 1024)


def test_reader_drops_empty_values():
    info = parse_infotext("p\nSteps: 20, Hires prompt: , Seed: 1")
    assert info["Hires prompt"] == "" and info["Seed"] == "1"


@pytest.mark.parametrize("text", [
    "", "\n\n", "Negative prompt:", "::::", '"', 'a\nK: "unterminated, B: 1, C: 2', ",,,,", "\x00\ufeff",
    "x" * (MAX_INFOTEXT_CHARS * 2), "a: b: c: d", None, b"bytes",
])
def test_reader_never_raises(text):
    info = parse_infotext(text)  # type: ignore[arg-type]
    assert isinstance(info["Prompt"], str)


def test_reader_bounds_length():
    text = "p" * (MAX_INFOTEXT_CHARS + 10) + "\nSteps: 1, Sampler: Euler, Seed: 1"
    info = parse_infotext(text)
    assert len(info["Prompt"]) == MAX_INFOTEXT_CHARS and "Steps" not in info


@pytest.mark.parametrize("line", [
    "a" * MAX_INFOTEXT_CHARS, "a " * (MAX_INFOTEXT_CHARS // 2), 'k: "a,' * (MAX_INFOTEXT_CHARS // 6),
    "\t" * MAX_INFOTEXT_CHARS, "k: " + "\\" * MAX_INFOTEXT_CHARS,
])
def test_reader_is_fast_on_hostile_lines(line):
    start = time.perf_counter()
    parse_infotext("p\n" + line)
    assert time.perf_counter() - start < 2.0


def test_item_scanner_matches_a1111_regex():
    rng = random.Random(1234)
    alphabet = 'ab_1 :,"\\\t-/xé\u3000.'
    for _ in range(20000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert split_parameter_line(line) == A1111_ITEM.findall(line), line
    for line in (EXAMPLE_HIRES.split("\n")[-1], 'A: "x\\"y", B: "", C: "z" d, E: 1'):
        assert split_parameter_line(line) == A1111_ITEM.findall(line)
