"""A1111's prompt language: `AND` parts, `[from:to:when]` editing and `[a|b]` alternation as per-step schedules.

Emphasis (`(a:1.2)`, `[a]`, escapes, `BREAK`) is resolved later, per scheduled text, by `parse_attention`
(re-exported here from `prompt_attention`). Nothing here raises on a malformed prompt: text the grammar cannot
read is used literally, as A1111 does.

>>> plan = plan_prompt("a [cat:dog:0.5] AND forest:0.7", 10)
>>> [(p.weight, [(s.end_step, s.text) for s in p.schedule]) for p in plan.parts]
[(1.0, [(5, 'a cat'), (10, 'a dog')]), (0.7, [(10, ' forest')])]
>>> plan.texts_at(6)
(('a dog', 1.0), (' forest', 0.7))
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Union

import lark

from .errors import InvalidRequest
from .prompt_attention import BREAK_FRAGMENT, parse_attention

__all__ = ["BREAK_FRAGMENT", "PromptPart", "PromptPlan", "ScheduledText", "parse_attention", "plan_prompt",
           "strip_comments"]

# The language A1111 users write. The rule order and shapes are kept as A1111 has them because lark's Earley
# parser resolves ambiguous prompts (e.g. `[a:b:c [d:3]`) by them; changing either changes observable results.
_GRAMMAR = r"""
!start: (prompt | /[][():]/+)*
prompt: (emphasized | scheduled | alternate | plain | WHITESPACE)*
!emphasized: "(" prompt ")"
        | "(" prompt ":" prompt ")"
        | "[" prompt "]"
scheduled: "[" [prompt ":"] prompt ":" [WHITESPACE] NUMBER [WHITESPACE] "]"
alternate: "[" prompt ("|" [prompt])+ "]"
WHITESPACE: /\s+/
plain: /([^\\\[\]():|]|\\.)+/
%import common.SIGNED_NUMBER -> NUMBER
"""

_AND = re.compile(r"\bAND\b")
# A part's trailing `:weight`; the lazy text keeps leading whitespace and drops trailing whitespace, as A1111.
_PART_WEIGHT = re.compile(r"^((?:\s|.)*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$")
# Necessary condition for any editing or alternation: a `[` followed later by `|` ... `]` or by `:` number `]`.
# Text with neither renders as itself at every step, so it skips the (slow, Earley) parse.
_MAY_SCHEDULE = re.compile(r"\[.*(?:\|.*]|:\s*[+-]?\.?\d[\d.eE+-]*\s*])", re.S)
_WHOLE_LINE_COMMENT = re.compile(r"(^|\n)#[^\n]*(\n|$)")
_INLINE_COMMENT = re.compile(r"#[^\n]*(\n|$)")


@dataclass(frozen=True)
class ScheduledText:
    """Text in effect until, and including, sampling step `end_step` (1-based, A1111 semantics)."""

    end_step: int
    text: str


@dataclass(frozen=True)
class PromptPart:
    """One `AND` part of a prompt (composable diffusion): its weight and its text schedule."""

    weight: float
    schedule: tuple[ScheduledText, ...]

    def text_at(self, step: int) -> str:
        """Return the text at `step`: the first entry whose end step is >= step (else the last).

        A1111's denoiser passes its own step counter, which starts at 0, so `[a:b:10]` keeps `a` through step
        index 10; callers that want A1111's images pass the 0-based sampler step."""
        for entry in self.schedule:
            if step <= entry.end_step:
                return entry.text
        return self.schedule[-1].text


@dataclass(frozen=True)
class PromptPlan:
    """Every `AND` part of a prompt with its schedule; the encoder encodes each distinct text once."""

    parts: tuple[PromptPart, ...]

    def texts_at(self, step: int) -> tuple[tuple[str, float], ...]:
        """Return `(text, weight)` of every part at `step` (see `PromptPart.text_at` for the step base)."""
        return tuple((part.text_at(step), part.weight) for part in self.parts)

    def distinct_texts(self) -> tuple[str, ...]:
        """Return every text any part uses at any step, first occurrence first."""
        return tuple(dict.fromkeys(entry.text for part in self.parts for entry in part.schedule))


# --- a small immutable tree the lark parse is turned into -------------------------------------------------------

@dataclass(frozen=True)
class _Edit:
    """`[before:after:when]`; `before` is None for `[after:when]`; `step` is resolved against the step count."""

    before: tuple[_Node, ...] | None
    after: tuple[_Node, ...]
    when: str


@dataclass(frozen=True)
class _Alternation:
    """`[a|b|c]`: option `(step - 1) % n` is used at each step."""

    options: tuple[tuple[_Node, ...], ...]


_Node = Union[str, _Edit, _Alternation]


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    # Built on first use, not at import, so importing the core stays cheap.
    return lark.Lark(_GRAMMAR)


def _convert(children: list) -> tuple[_Node, ...]:
    """Flatten lark children into text runs and editing/alternation nodes."""
    nodes: list[_Node] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, lark.Token):
            nodes.append(str(child))
        elif child.data == "scheduled":
            before, after, _, when, _ = child.children
            nodes.append(_Edit(None if before is None else _convert(before.children), _convert(after.children),
                               str(when)))
        elif child.data == "alternate":
            nodes.append(_Alternation(tuple(() if c is None else _convert(c.children) for c in child.children)))
        else:  # start, prompt, emphasized, plain: their tokens are kept as text
            nodes.extend(_convert(child.children))
    return tuple(nodes)


@dataclass(frozen=True)
class _StepRule:
    """How `when` numbers become steps: A1111's current rule, its old one, and the hires-pass offsets."""

    steps: int
    old: bool
    int_offset: int
    float_offset: float

    def resolve(self, when: str) -> int:
        """Return the last step (1-based) of the `before` text; <= 0 means `after` from the start."""
        value = float(when)
        if self.old:
            value = value * self.steps if value < 1 else value
        elif "." in when:
            value = (value - self.float_offset) * self.steps
        else:
            value = value - self.int_offset
        return min(self.steps, int(value))


def _switch_steps(nodes: tuple[_Node, ...], rule: _StepRule, found: set[int]) -> None:
    """Collect every step at which the rendered text may change."""
    for node in nodes:
        if isinstance(node, _Edit):
            step = rule.resolve(node.when)
            if step >= 1:
                found.add(step)
            _switch_steps(node.before or (), rule, found)
            _switch_steps(node.after, rule, found)
        elif isinstance(node, _Alternation):
            found.update(range(1, rule.steps + 1))
            for option in node.options:
                _switch_steps(option, rule, found)


def _render(nodes: tuple[_Node, ...], step: int, rule: _StepRule) -> str:
    """The text the nodes stand for at `step`."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Edit):
            chosen = (node.before or ()) if step <= rule.resolve(node.when) else node.after
            out.append(_render(chosen, step, rule))
        else:
            out.append(_render(node.options[(step - 1) % len(node.options)], step, rule))
    return "".join(out)


@functools.lru_cache(maxsize=128)
def _schedule(text: str, rule: _StepRule) -> tuple[ScheduledText, ...]:
    """A1111's per-prompt schedule: one entry per step at which the text may change, the last at `steps`.

    Cached: every batch of a job (and each image's cond and uncond) asks again, and the Earley parse is slow.
    """
    if _MAY_SCHEDULE.search(text) is None:
        return (ScheduledText(rule.steps, text),)
    try:
        nodes = _convert([_parser().parse(text)])
        found = {rule.steps}
        _switch_steps(nodes, rule, found)
        return tuple(ScheduledText(step, _render(nodes, step, rule)) for step in sorted(found))
    except (lark.exceptions.LarkError, RecursionError, ValueError, OverflowError):
        # A1111 uses the whole prompt literally when it cannot be parsed; deep nesting and absurd numbers
        # (which A1111 would crash on) degrade the same way here.
        return (ScheduledText(rule.steps, text),)


def _split_and(prompt: str) -> list[tuple[str, float]]:
    """Split a positive prompt on `AND` and read each part's trailing `:weight` (default 1.0)."""
    parts = []
    for part in _AND.split(prompt):
        match = _PART_WEIGHT.search(part)
        if match is None:  # cannot happen with this pattern; kept so odd input never raises
            parts.append((part, 1.0))
            continue
        text, weight = match.groups()
        parts.append((text, float(weight) if weight is not None else 1.0))
    return parts


def plan_prompt(prompt: str, steps: int, *, allow_and: bool = True, hires_steps: int | None = None,
                use_old_scheduling: bool = False) -> PromptPlan:
    """Split a prompt into weighted `AND` parts, each with the schedule of texts per sampling step.

    `steps` is the first pass's step count as the sampler counts them (A1111 passes its sampler's "total steps",
    which some samplers change). For the hires pass give that pass's count as `hires_steps`, with `steps` still
    the first pass's: integer `when` values are then offset by `steps` and fractions by 1.0 (A1111's timeline), unless
    `use_old_scheduling` (A1111's compatibility setting: `when` < 1 is a fraction, else a step; no offsets).
    The negative prompt is planned with `allow_and=False`: A1111 never splits it nor reads a weight from it.

    >>> plan_prompt("a [b:3]", 10).parts[0].schedule
    (ScheduledText(end_step=3, text='a '), ScheduledText(end_step=10, text='a b'))
    >>> [s.text for s in plan_prompt("[fe|]male", 3).parts[0].schedule]
    ['female', 'male', 'female']
    >>> [(s.end_step, s.text) for s in plan_prompt("a [b:1.5] c", 10, hires_steps=10).parts[0].schedule]
    [(5, 'a  c'), (10, 'a b c')]
    >>> plan_prompt("cat AND dog", 4, allow_and=False).parts
    (PromptPart(weight=1.0, schedule=(ScheduledText(end_step=4, text='cat AND dog'),)),)
    """
    _check_nesting(prompt)
    if hires_steps is None or use_old_scheduling:
        rule = _StepRule(steps, use_old_scheduling, 0, 0.0)
    else:
        rule = _StepRule(hires_steps, False, steps, 1.0)
    pieces = _split_and(prompt) if allow_and else [(prompt, 1.0)]
    return PromptPlan(tuple(PromptPart(weight, _schedule(text, rule)) for text, weight in pieces))


MAX_NESTING = 64  # nested [a:b:when] edits cost time that grows with depth squared; real prompts nest a few levels


def _check_nesting(prompt: str) -> None:
    """Refuse brackets nested more than MAX_NESTING deep (a short prompt must not tie up the worker).

    >>> _check_nesting("((a cat)) [dog:cat:3]")
    >>> _check_nesting("[" * 65 + "a" + "]" * 65)
    Traceback (most recent call last):
    ...
    modules.core.errors.InvalidRequest: the prompt nests brackets 65 levels deep; at most 64 are allowed
    """
    depth = deepest = 0
    escaped = False
    for char in prompt:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(0, depth - 1)
    if deepest > MAX_NESTING:
        raise InvalidRequest(f"the prompt nests brackets {deepest} levels deep; at most {MAX_NESTING} are allowed")


def strip_comments(prompt: str) -> str:
    """Remove `#` comments to the end of the line, as A1111 does when `enable_prompt_comments` is on.

    A whole-line comment leaves its line break; a comment after text ends the line there.

    >>> strip_comments("# style notes\\ncastle, (sunset:1.2) # try dusk\\nBREAK fog")
    '\\ncastle, (sunset:1.2) \\nBREAK fog'
    """
    prompt = _WHOLE_LINE_COMMENT.sub("\n", prompt)
    return _INLINE_COMMENT.sub("\n", prompt)
