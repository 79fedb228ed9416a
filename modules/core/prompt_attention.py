"""A1111's emphasis syntax: `(a)`, `(a:1.5)`, `[a]`, escapes and `BREAK` -> `(text, weight)` fragments."""
from __future__ import annotations

import re

BREAK_FRAGMENT = ("BREAK", -1.0)
"""The fragment `parse_attention` emits for a `BREAK` outside brackets; the encoder ends the chunk on it.

A1111 multiplies it like any fragment, so a `BREAK` inside brackets comes out as ("BREAK", -1.1) and is not a
chunk break there: only this exact pair is one.
"""

_UP = 1.1
_DOWN = 1 / 1.1

# One token per match, tried in this order (the order is what makes `\(` an escape and `(a:2)` a weight).
_TOKEN = re.compile(r"""
    (?P<escaped>\\[()\[\]\\])
  | (?P<backslash>\\)
  | (?P<open_round>\()
  | (?P<open_square>\[)
  | :\s*(?P<weight>[+-]?(?:\d+\.?\d*|\.\d+))\s*\)
  | (?P<close_round>\))
  | (?P<close_square>])
  | (?P<text>[^\\()\[\]:]+|:)
""", re.X)
# A1111 accepts any run of digits and dots as a weight and crashes on e.g. `(a:1.2.3)`; the pattern above only
# takes real numbers, so such text stays literal (the `:` as text, the `)` closing the group with x1.1).

_BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)


def _append_text(fragments: list[list], text: str) -> None:
    """Add plain text, turning every `BREAK` word (and the whitespace around it) into a break fragment."""
    for index, piece in enumerate(_BREAK.split(text)):
        if index:
            fragments.append(list(BREAK_FRAGMENT))
        fragments.append([piece, 1.0])


def _scale_from(fragments: list[list], start: int, factor: float) -> None:
    for fragment in fragments[start:]:
        fragment[1] *= factor


def _merge_equal_weights(fragments: list[list]) -> list[tuple[str, float]]:
    """Join neighbours with the same weight (A1111 merges before encoding, so token runs match)."""
    merged: list[list] = []
    for text, weight in fragments:
        if merged and merged[-1][1] == weight:
            merged[-1][0] += text
        else:
            merged.append([text, weight])
    return [(text, weight) for text, weight in merged]


def parse_attention(text: str) -> list[tuple[str, float]]:
    """Split prompt text into `(text, weight)` fragments, as A1111's `parse_prompt_attention`.

    `(x)` multiplies by 1.1, `[x]` divides by 1.1, `(x:w)` multiplies by w; nesting multiplies. Brackets left
    open apply to the end of the text; stray closing brackets are literal; `\\(`, `\\)`, `\\[`, `\\]`, `\\\\` are
    literal characters. `BREAK` becomes `BREAK_FRAGMENT`. Never raises.

    >>> parse_attention("an (important) word")
    [('an ', 1.0), ('important', 1.1), (' word', 1.0)]
    >>> parse_attention("(unbalanced")
    [('unbalanced', 1.1)]
    >>> parse_attention("\\\\(literal\\\\]")
    [('(literal]', 1.0)]
    >>> parse_attention("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).")  # doctest: +NORMALIZE_WHITESPACE
    [('a ', 1.0), ('house', 1.5730000000000004), (' ', 1.1), ('on', 1.0), (' a ', 1.1), ('hill', 0.55),
     (', sun, ', 1.1), ('sky', 1.4641000000000006), ('.', 1.1)]
    >>> parse_attention("cat BREAK dog")
    [('cat', 1.0), ('BREAK', -1.0), ('dog', 1.0)]
    """
    fragments: list[list] = []
    rounds: list[int] = []
    squares: list[int] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "escaped":
            fragments.append([match.group()[1], 1.0])
        elif kind == "backslash":
            fragments.append(["", 1.0])  # a lone backslash escapes nothing and vanishes, as in A1111
        elif kind == "open_round":
            rounds.append(len(fragments))
        elif kind == "open_square":
            squares.append(len(fragments))
        elif kind == "weight" and rounds:
            _scale_from(fragments, rounds.pop(), float(match.group("weight")))
        elif kind == "close_round" and rounds:
            _scale_from(fragments, rounds.pop(), _UP)
        elif kind == "close_square" and squares:
            _scale_from(fragments, squares.pop(), _DOWN)
        else:
            _append_text(fragments, match.group())
    for start in rounds:
        _scale_from(fragments, start, _UP)
    for start in squares:
        _scale_from(fragments, start, _DOWN)
    return _merge_equal_weights(fragments or [["", 1.0]])
