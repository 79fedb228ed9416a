"""A1111 prompt chunking: weighted fragments -> 77-token chunks (BOS + 75 + EOS) with per-token weights.

Pure token bookkeeping (no torch): the tokenizer is only asked for ids. ``prompt_embeds`` encodes the chunks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

CHUNK_LENGTH = 75  # prompt tokens per chunk; BOS and EOS make 77, CLIP's context length
BREAK_WEIGHT = -1.0  # the parser marks a BREAK keyword as the fragment ("BREAK", -1.0)

Fragment = tuple[str, float]


@dataclass(frozen=True)
class TokenIds:
    """A tokenizer's special ids. SD1's CLIP pads with EOS; OpenCLIP (SD2, SDXL's second tower) pads with 0 (``!``)."""

    bos: int
    eos: int
    pad: int
    comma: int | None


@dataclass(frozen=True)
class PromptChunk:
    """One encoder input: 77 token ids and the emphasis weight of each (1.0 for BOS, EOS and padding)."""

    tokens: tuple[int, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class ChunkedPrompt:
    """A prompt cut into chunks, with A1111's token count (what the UI's counter shows)."""

    chunks: tuple[PromptChunk, ...]
    token_count: int

    @property
    def capacity(self) -> int:
        """Tokens that fit before one more chunk is needed (A1111 ``get_target_prompt_token_count``)."""
        return math.ceil(max(self.token_count, 1) / CHUNK_LENGTH) * CHUNK_LENGTH


@dataclass
class _Builder:
    """Mutable state of one chunking pass (local to ``chunk_tokens``)."""

    ids: TokenIds
    backtrack: int
    chunks: list[PromptChunk] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    token_count: int = 0
    last_comma: int = -1

    def close(self, *, is_last: bool = False) -> None:
        """Pad the open chunk, wrap it in BOS/EOS and start a new one.

        A1111 counts a chunk closed early (BREAK, backtrack, full) as 75 tokens, the final one by its content."""
        self.token_count += len(self.tokens) if is_last else CHUNK_LENGTH
        padding = CHUNK_LENGTH - len(self.tokens)
        # A1111 pads with EOS, then replaces everything after the first EOS with the pad id; same result
        tokens = [self.ids.bos, *self.tokens, self.ids.eos] + [self.ids.pad] * padding
        self.chunks.append(PromptChunk(tuple(tokens), (1.0, *self.weights, *([1.0] * (padding + 1)))))
        self.tokens, self.weights, self.last_comma = [], [], -1

    def backtrack_to_comma(self) -> None:
        """Move the words after a recent comma to the next chunk, so a phrase is not cut in two."""
        cut = self.last_comma + 1
        moved, moved_weights = self.tokens[cut:], self.weights[cut:]
        self.tokens, self.weights = self.tokens[:cut], self.weights[:cut]
        self.close()
        self.tokens, self.weights = moved, moved_weights

    def add(self, run: Sequence[int], weight: float) -> None:
        """Append tokens that must stay together (one word piece, or all vectors of one embedding)."""
        if len(run) == 1 and run[0] == self.ids.comma:
            self.last_comma = len(self.tokens)
        elif (self.backtrack and len(self.tokens) == CHUNK_LENGTH and self.last_comma != -1
              and len(self.tokens) - self.last_comma <= self.backtrack):
            self.backtrack_to_comma()
        if len(self.tokens) == CHUNK_LENGTH or len(self.tokens) + len(run) > CHUNK_LENGTH:
            self.close()  # an embedding's vectors are never split across chunks
        self.tokens.extend(run)
        self.weights.extend([weight] * len(run))


def _runs(ids: Sequence[int], groups: Mapping[int, tuple[int, ...]]) -> list[Sequence[int]]:
    """Split token ids into runs kept together: a multi-vector embedding's tokens form one run."""
    runs, position = [], 0
    while position < len(ids):
        group = groups.get(ids[position])
        if group and tuple(ids[position:position + len(group)]) == group:
            runs.append(group)
            position += len(group)
        else:
            runs.append(ids[position:position + 1])
            position += 1
    return runs


def chunk_tokens(tokenized: Sequence[tuple[Sequence[int] | None, float]], ids: TokenIds, *,
                 groups: Mapping[int, tuple[int, ...]] | None = None, comma_backtrack: int = 20) -> ChunkedPrompt:
    """Cut tokenized fragments (``None`` ids = BREAK) into chunks the A1111 way.

    ``groups`` maps an embedding's first token id to all of its token ids (multi-vector embeddings);
    ``comma_backtrack`` is A1111's ``comma_padding_backtrack`` (0 disables it)."""
    builder = _Builder(ids=ids, backtrack=comma_backtrack)
    for token_ids, weight in tokenized:
        if token_ids is None:
            builder.close()
            continue
        for run in _runs(token_ids, groups or {}):
            builder.add(run, weight)
    if builder.tokens or not builder.chunks:
        builder.close(is_last=True)
    return ChunkedPrompt(tuple(builder.chunks), builder.token_count)


def is_break(fragment: Fragment) -> bool:
    """Whether a parsed fragment is the BREAK keyword."""
    return fragment[0] == "BREAK" and fragment[1] == BREAK_WEIGHT


def token_groups(added_tokens: Mapping[str, int]) -> dict[int, tuple[int, ...]]:
    """Multi-vector embeddings in a tokenizer's added tokens: diffusers names the vectors ``T``, ``T_1``, ``T_2``…"""
    groups = {}
    for token, first in added_tokens.items():
        chain, index = [first], 1
        while f"{token}_{index}" in added_tokens:
            chain.append(added_tokens[f"{token}_{index}"])
            index += 1
        if len(chain) > 1:
            groups[first] = tuple(chain)
    return groups
