"""Tests for modules.core.extra_networks: A1111's `<kind:args>` tags and LoRA multipliers."""
from __future__ import annotations

import dataclasses
import doctest

import pytest

from modules.core import extra_networks
from modules.core.extra_networks import ExtraNetworkTag, LoraSelection, extract_tags, lora_selections


def test_doctests():
    assert doctest.testmod(extra_networks).failed == 0


def _selections(prompt: str, **kwargs) -> tuple[list[tuple[str, float, float]], list[str]]:
    selected, warnings = lora_selections(extract_tags(prompt)[1], **kwargs)
    return [(s.name, s.te_weight, s.unet_weight) for s in selected], warnings


@pytest.mark.parametrize("prompt,text", [
    ("a cat <lora:x:1> on a mat", "a cat  on a mat"),
    ("<lora:x:1>a cat", "a cat"),
    ("a cat,<lora:x>,<lyco:y:0.5>", "a cat,,"),
    ("line one\n<lora:x:1>\nline two", "line one\n\nline two"),
    ("no tags (at:1.2) [a:b:3]", "no tags (at:1.2) [a:b:3]"),
    ("<lora:> <:x> <lo ra:x> <lora x>", "<lora:> <:x> <lo ra:x> <lora x>"),
])
def test_tags_are_removed_leaving_the_text_as_is(prompt, text):
    assert extract_tags(prompt)[0] == text


def test_args_run_to_the_next_closing_bracket():
    text, tags = extract_tags("<lora:a<b:1> tail>")
    assert text == " tail>"
    assert tags == [ExtraNetworkTag("lora", ("a<b", "1"), {})]


def test_kind_is_word_characters_and_args_split_on_colons():
    _, tags = extract_tags("<lora_v2:name:0.5:te=0.1:a=b=c:> <hypernet:h>")
    assert tags[0].kind == "lora_v2"
    assert tags[0].positional == ("name", "0.5", "a=b=c", "")
    assert dict(tags[0].named) == {"te": "0.1"}
    assert tags[1] == ExtraNetworkTag("hypernet", ("h",))


def test_tags_are_frozen_and_hashable():
    tag = extract_tags("<lora:x:1:unet=2>")[1][0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tag.kind = "lyco"  # type: ignore[misc]
    with pytest.raises(TypeError):
        tag.named["unet"] = "3"  # type: ignore[index]
    assert hash(tag) == hash(ExtraNetworkTag("lora", ("x", "1"), {"unet": "2"}))
    assert str(tag) == "<lora:x:1:unet=2>"


@pytest.mark.parametrize("prompt,expected", [
    ("<lora:x>", ("x", 1.0, 1.0)),
    ("<lora:x:0.6>", ("x", 0.6, 0.6)),
    ("<lora:x:0.6:0.2>", ("x", 0.6, 0.2)),
    ("<lora:x:0.6:0.2:16>", ("x", 0.6, 0.2)),
    ("<lora:x:te=0.3>", ("x", 0.3, 0.3)),
    ("<lora:x:unet=0.3>", ("x", 1.0, 0.3)),
    ("<lora:x:0.6:te=0.3>", ("x", 0.3, 0.3)),
    ("<lora:x:0.6:0.5:unet=0.1:te=0.2>", ("x", 0.2, 0.1)),
    ("<lora:x:1:dyn=abc>", ("x", 1.0, 1.0)),
    ("<lora:x:-1.5>", ("x", -1.5, -1.5)),
    ("<lora:x: 2 >", ("x", 2.0, 2.0)),
    ("<lora:x:1e-1>", ("x", 0.1, 0.1)),
    ("<lyco:x:0.4>", ("x", 0.4, 0.4)),
    ("<lora:my lora (v2):0.5>", ("my lora (v2)", 0.5, 0.5)),
])
def test_lora_multipliers(prompt, expected):
    assert _selections(prompt) == ([expected], [])


def test_default_multiplier_applies_when_no_weight_is_given():
    assert _selections("<lora:x> <lora:y:0.3>", default_multiplier=0.7) == (
        [("x", 0.7, 0.7), ("y", 0.3, 0.3)], [])


def test_last_tag_of_a_name_wins():
    assert _selections("<lora:x:0.2> <lora:y> <lyco:x:0.9>") == ([("y", 1.0, 1.0), ("x", 0.9, 0.9)], [])


def test_hypernetworks_are_skipped_with_a_warning():
    assert _selections("<hypernet:anime:0.5> <lora:x>") == (
        [("x", 1.0, 1.0)], ["Hypernetworks are not supported: <hypernet:anime:0.5> skipped"])


def test_unknown_kinds_are_skipped_with_a_warning():
    assert _selections("<embedding:foo>") == ([], ["Unknown extra network type 'embedding': <embedding:foo> skipped"])


@pytest.mark.parametrize("prompt,bad", [
    ("<lora:x:abc>", "abc"), ("<lora:x:0.5:high>", "high"), ("<lora:x:te=->", "-"),
    ("<lora:x:unet=>", ""), ("<lora:x::0.5>", ""), ("<lora:x:nan>", "nan"), ("<lora:x:inf>", "inf"),
])
def test_malformed_numbers_skip_the_tag(prompt, bad):
    selected, warnings = _selections(prompt + "<lora:ok>")
    assert selected == [("ok", 1.0, 1.0)]
    assert warnings == [f"{extract_tags(prompt)[1][0]} skipped: {bad!r} is not a number"]


@pytest.mark.parametrize("prompt", ["<lora::1>", "<lora:te=1>"])
def test_a_tag_without_a_name_is_skipped(prompt):
    assert _selections(prompt) == ([], [f"{prompt} skipped: no LoRA name"])


def test_selection_is_a_frozen_value():
    selection = LoraSelection("x", 1.0, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        selection.name = "y"  # type: ignore[misc]
    assert selection == LoraSelection("x", 1.0, 0.5)
