"""Tests for modules.core.prompt_parser and prompt_attention: A1111's prompt language, construct by construct."""
from __future__ import annotations

import doctest
import random
import re
import time

import pytest

from modules.core import prompt_attention, prompt_parser
from modules.core.prompt_parser import (BREAK_FRAGMENT, PromptPart, PromptPlan, ScheduledText, parse_attention,
                                        plan_prompt, strip_comments)
from tests.core.prompt_corpus import CORPUS


def _plan(prompt: str, steps: int, **options) -> tuple:
    plan = plan_prompt(prompt, steps, **options)
    return tuple((part.weight, tuple((s.end_step, s.text) for s in part.schedule)) for part in plan.parts)


def _approx(fragments: list[tuple[str, float]]) -> list[tuple[str, object]]:
    return [(text, pytest.approx(weight)) for text, weight in fragments]


def test_doctests():
    assert doctest.testmod(prompt_parser).failed == 0
    assert doctest.testmod(prompt_attention).failed == 0


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 50
    assert len({prompt for prompt, *_ in CORPUS}) >= 50


@pytest.mark.parametrize("prompt,steps,options,expected", CORPUS, ids=[f"c{i}" for i in range(len(CORPUS))])
def test_corpus_plans(prompt, steps, options, expected):
    assert _plan(prompt, steps, **options) == expected


# --- emphasis -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("(a)", [("a", 1.1)]),
    ("((a))", [("a", 1.1 * 1.1)]),
    ("(((a)))", [("a", 1.1 ** 3)]),
    ("(a:1.5)", [("a", 1.5)]),
    ("(a: -0.5 )", [("a", -0.5)]),
    ("(a:.5)", [("a", 0.5)]),
    ("[a]", [("a", 1 / 1.1)]),
    ("[[a]]", [("a", 1 / 1.1 / 1.1)]),
    ("((a:1.3))", [("a", 1.3 * 1.1)]),
    ("x (y [z]) w", [("x ", 1.0), ("y ", 1.1), ("z w", 1.0)]),  # z is back at exactly 1.0 and merges
])
def test_emphasis_weights(text, expected):
    assert parse_attention(text) == _approx(expected)


def test_escapes_are_literal():
    assert parse_attention(r"\(a\) \[b\] c\\d") == [("(a) [b] c\\d", 1.0)]


def test_a_lone_backslash_vanishes():
    assert parse_attention("a\\b") == [("ab", 1.0)]


@pytest.mark.parametrize("text,expected", [
    ("(open", [("open", 1.1)]),
    ("[open", [("open", 1 / 1.1)]),
    ("a (b [c", [("a ", 1.0), ("b ", 1.1), ("c", 1.1 / 1.1)]),
    ("stray) close]", [("stray) close]", 1.0)]),
    ("a:b", [("a:b", 1.0)]),
    ("a:1.2)", [("a:1.2)", 1.0)]),
])
def test_unbalanced_brackets(text, expected):
    assert parse_attention(text) == _approx(expected)


def test_malformed_weight_stays_text_instead_of_failing():
    # A1111 raises on these; here the `:` and number are text and `)` closes the group with x1.1
    assert parse_attention("(a:1.2.3)") == _approx([("a:1.2.3", 1.1)])
    assert parse_attention("(a:.)") == _approx([("a:.", 1.1)])


def test_equal_weights_are_merged():
    assert parse_attention("(unnecessary)(parens)") == _approx([("unnecessaryparens", 1.1)])
    assert parse_attention("(a:1.1) (b)") == _approx([("a", 1.1), (" ", 1.0), ("b", 1.1)])


def test_break_becomes_a_marker_with_its_whitespace_removed():
    assert parse_attention("cat,  BREAK\n dog") == [("cat,", 1.0), BREAK_FRAGMENT, ("dog", 1.0)]
    assert parse_attention("BREAKFAST and break") == [("BREAKFAST and break", 1.0)]
    assert parse_attention("BREAK BREAK") == [("", 1.0), BREAK_FRAGMENT, ("", 1.0), BREAK_FRAGMENT, ("", 1.0)]


def test_break_inside_brackets_is_scaled_like_any_fragment():
    fragments = parse_attention("(a BREAK b)")
    assert fragments == _approx([("a", 1.1), ("BREAK", -1.1), ("b", 1.1)])
    assert BREAK_FRAGMENT not in fragments


def test_empty_text_gives_one_empty_fragment():
    assert parse_attention("") == [("", 1.0)]


# --- scheduling -------------------------------------------------------------------------------------------------

def test_reference_cases_of_the_contract():
    assert _plan("a [b:3]", 10) == ((1.0, ((3, "a "), (10, "a b"))),)
    assert _plan("a [b:.5] c", 10) == ((1.0, ((5, "a  c"), (10, "a b c"))),)
    assert _plan("a[b:[c:d:2]:1]e", 10) == ((1.0, ((1, "abe"), (2, "ace"), (10, "ade"))),)


def test_fraction_uses_int_of_fraction_times_steps():
    assert _plan("[a:b:0.25]", 30) == ((1.0, ((7, "a"), (30, "b"))),)


def test_alternation_cycles_every_step():
    texts = [text for _, text in _plan("[x|y|z]", 7)[0][1]]
    assert texts == ["x", "y", "z", "x", "y", "z", "x"]


def test_alternation_with_empty_options():
    texts = [text for _, text in _plan("[fe|||]male", 5)[0][1]]
    assert texts == ["female", "male", "male", "male", "female"]


def test_unparsable_prompt_is_used_whole():
    prompt = "a [b:c] (d"
    assert _plan(prompt, 10) == ((1.0, ((10, prompt),)),)


def test_hires_offsets_integer_and_fraction_when():
    assert _plan("[a:b:12]", 10, hires_steps=6) == ((1.0, ((2, "a"), (6, "b"))),)
    assert _plan("[a:b:1.25]", 10, hires_steps=8) == ((1.0, ((2, "a"), (8, "b"))),)
    # with old scheduling the hires pass is ignored: fractions < 1 and steps on the first-pass count
    assert _plan("[a:b:0.5]", 10, hires_steps=4, use_old_scheduling=True) == ((1.0, ((5, "a"), (10, "b"))),)


def test_negative_prompt_is_never_split():
    assert _plan("a AND b:0.5", 10, allow_and=False) == ((1.0, ((10, "a AND b:0.5"),)),)


def test_texts_at_picks_each_parts_text_per_step():
    plan = plan_prompt("[cat:dog:2] AND [sun|moon]:0.5", 4)
    assert [plan.texts_at(step) for step in (1, 2, 3, 4)] == [
        (("cat", 1.0), (" sun", 0.5)), (("cat", 1.0), (" moon", 0.5)),
        (("dog", 1.0), (" sun", 0.5)), (("dog", 1.0), (" moon", 0.5))]
    assert plan.texts_at(99) == (("dog", 1.0), (" moon", 0.5))  # past the end: the last entry
    assert plan.distinct_texts() == ("cat", "dog", " sun", " moon")


def test_plan_types_are_frozen_values():
    plan = plan_prompt("a", 3)
    assert plan == PromptPlan((PromptPart(1.0, (ScheduledText(3, "a"),)),))
    with pytest.raises(AttributeError):
        plan.parts = ()  # type: ignore[misc]


def test_deep_nesting_does_not_raise():
    plan = plan_prompt("[a:" * 40 + "b" + ":1]" * 40, 10)
    assert _plan("[a:" * 40 + "b" + ":1]" * 40, 10) == ((1.0, ((1, "a"), (10, "b"))),)
    assert plan.texts_at(2) == (("b", 1.0),)
    (text, weight), = parse_attention("(" * 5000 + "x")
    assert text == "x" and weight > 1e200


# --- comments ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt,expected", [
    ("no comments here", "no comments here"),
    ("# whole line\ncat", "\ncat"),
    ("cat\n# whole line\ndog", "cat\ndog"),
    ("cat # after text\ndog", "cat \ndog"),
    ("cat #end", "cat \n"),
    ("a\n#one\n#two\nb", "a\n\nb"),  # the first pass eats the break the second line needed
])
def test_strip_comments(prompt, expected):
    assert strip_comments(prompt) == expected


# --- fuzzing ----------------------------------------------------------------------------------------------------

_SOUP = ("(", ")", "[", "]", ":", "|", "\\", " ", ",", "AND", "BREAK", "0.5", "3", "a", "b", ".", "1", "-", "\n",
         "#", "<lora:x:0.8>", "1.2", "e")
# pieces that make the grammar do real work: editing, alternation and their broken halves
_EDITS = ("[a:b:2]", "[x|y]", "[", "]", ":3]", ":0.5]", "|", "(", ")", ":", " ", "c", "AND", "[p::1]", "\\[")


def _soup(rng: random.Random, pieces: tuple[str, ...], count: int, longest: int) -> list[str]:
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def _check_plan(text: str, steps: int, hires: int | None, old: bool) -> None:
    plan = plan_prompt(text, steps, hires_steps=hires, use_old_scheduling=old)
    last = hires if hires is not None and not old else steps
    assert len(plan.parts) == len(re.split(r"\bAND\b", text))
    for part in plan.parts:
        ends = [entry.end_step for entry in part.schedule]
        assert ends == sorted(set(ends)) and ends[0] >= 1 and ends[-1] == last
        for entry in part.schedule:
            parse_attention(entry.text)


def test_fuzz_bracket_soup_never_raises():
    rng = random.Random(20240917)
    started = time.monotonic()
    for text in _soup(rng, _SOUP, 3000, 16):
        _check_plan(text, rng.choice((1, 7, 20)), rng.choice((None, 5)), rng.random() < 0.2)
        negative = plan_prompt(text, 20, allow_and=False)
        assert len(negative.parts) == 1 and negative.parts[0].weight == 1.0
        fragments = parse_attention(strip_comments(text))
        assert fragments and all(isinstance(t, str) and isinstance(w, float) for t, w in fragments)
    assert time.monotonic() - started < 10  # about 1 s on an idle machine


def test_fuzz_editing_soup_never_raises():
    rng = random.Random(4)
    started = time.monotonic()
    for text in _soup(rng, _EDITS, 150, 10):
        _check_plan(text, rng.choice((1, 6)), rng.choice((None, 4)), rng.random() < 0.2)
    assert time.monotonic() - started < 20  # lark's Earley parser costs a few ms per prompt; about 2 s idle


def test_attention_spells_plain_text_back():
    rng = random.Random(7)
    plain = tuple(p for p in _SOUP if not any(c in p for c in "()[]\\") and p != "BREAK")
    for text in _soup(rng, plain, 2000, 30):
        assert "".join(t for t, _ in parse_attention(text)) == text
