"""The prompt boxes' token counter (`N/75`, `N/150`, ...): which texts A1111 counts, and counting without waiting.

A1111 counts the prompt as a job would see it, then shows the longest text: comments removed, styles added,
extra-network tags (`<lora:...>`) removed, and every `AND` part at every scheduled step counted on its own.

>>> counted_texts("a [cat:dog:0.5] <lora:x:1> AND tree:0.7", 10)
('a cat', 'a dog', ' tree')
>>> counted_texts("cat AND dog", 10, negative=True)
('cat AND dog',)
>>> str(longest_count([(3, 75), (80, 150), (7, 75)])), str(TokenCount(None))
('80/150', '-/75')
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .backend import LoadedCheckpoint
from .errors import Busy, NoModelLoaded
from .extra_networks import extract_tags
from .model_manager import ModelManager
from .prompt_parser import plan_prompt, strip_comments
from .settings import SettingsStore
from .style_store import StyleStore

CHUNK_TOKENS = 75
"""Prompt tokens per text-encoder chunk; the counter's capacity is a multiple of it."""


@dataclass(frozen=True)
class TokenCount:
    """Tokens the longest text uses (None: no model to count with) and the chunks' capacity (a multiple of 75)."""

    tokens: int | None
    capacity: int = CHUNK_TOKENS

    def __str__(self) -> str:
        """The counter's text, e.g. ``80/150``; ``-/75`` when nothing could be counted."""
        return f"{'-' if self.tokens is None else self.tokens}/{self.capacity}"


def counted_texts(prompt: str, steps: int, *, negative: bool = False,
                  use_old_scheduling: bool = False) -> tuple[str, ...]:
    """Every distinct text a job would encode for ``prompt`` (tags removed; each `AND` part, each step)."""
    text, _ = extract_tags(prompt)
    plan = plan_prompt(text, max(1, int(steps)), allow_and=not negative, use_old_scheduling=use_old_scheduling)
    return plan.distinct_texts()


def longest_count(counts: Iterable[tuple[int, int]]) -> TokenCount:
    """The count with the most tokens (A1111 shows the longest text's `tokens/capacity`)."""
    tokens, capacity = max(counts, key=lambda pair: pair[0], default=(0, CHUNK_TOKENS))
    return TokenCount(tokens, capacity)


class TokenCounter:
    """Counts a prompt box's tokens with the active model's tokenizer, never loading a model or waiting for a job.

    Counting only tokenizes (no text encoder runs), so it does not take the generation lock.
    """

    def __init__(self, *, models: ModelManager, settings: SettingsStore, styles: StyleStore | None = None):
        self._models, self._settings, self._styles = models, settings, styles

    def count(self, prompt: str, *, steps: int, styles: Sequence[str] = (), negative: bool = False) -> TokenCount:
        """The counter for one prompt box; ``-/75`` while no model is loaded (or one is being switched)."""
        loaded = self._models.active_nowait()
        if loaded is None:
            return TokenCount(None)
        settings = self._settings.current()
        texts = counted_texts(self._as_job_sees_it(prompt, styles, negative), steps, negative=negative,
                              use_old_scheduling=bool(settings.get("use_old_scheduling")))
        parse_emphasis = settings.get("emphasis") != "None"  # A1111: with "None" brackets are plain text
        try:
            return longest_count(self._count(loaded, text, parse_emphasis) for text in texts)
        except (Busy, NoModelLoaded):
            return TokenCount(None)

    def _count(self, loaded: LoadedCheckpoint, text: str, parse_emphasis: bool) -> tuple[int, int]:
        return self._models.count_tokens(loaded, text, parse_emphasis=parse_emphasis)

    def _as_job_sees_it(self, prompt: str, styles: Sequence[str], negative: bool) -> str:
        """Comments removed, then the chosen styles added (A1111's counter order; its
        ``include_styles_into_token_counters`` is on by default)."""
        settings = self._settings.current()
        if settings.get("enable_prompt_comments"):
            prompt = strip_comments(prompt)
        if self._styles is None or not styles or not settings.get("include_styles_into_token_counters", True):
            return prompt
        if negative:
            return self._styles.apply("", prompt, styles)[1]
        return self._styles.apply(prompt, "", styles)[0]
