"""Textual-inversion embeddings: read A1111/diffusers/SDXL files safely and load them with diffusers' own verbs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from modules.core.errors import UnsupportedModel

from .checkpoint_files import read_state_dict


@dataclass
class EmbeddingState:
    """What is loaded into one pipeline: name -> (path, mtime, vectors); name -> reason for skipped files."""

    loaded: dict[str, tuple[Path, int, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, list[str]] = field(default_factory=dict)


def read_embedding(path: Path) -> dict[str, torch.Tensor]:
    """Vectors per text encoder (``clip_l``/``clip_g`` for SDXL, ``""`` for single-encoder files); pickles (A1111's
    ``.pt``) are read through their converted ``.safetensors`` copy, where ``string_to_param`` became a dotted name."""
    data = read_state_dict(path)
    if "clip_l" in data and "clip_g" in data:
        return {"clip_l": data["clip_l"], "clip_g": data["clip_g"]}
    params = [v for k, v in data.items() if k.startswith("string_to_param.")]
    if len(params) == 1:
        return {"": params[0]}
    if "emb_params" in data:
        return {"": data["emb_params"]}
    if len(data) == 1:
        return {"": next(iter(data.values()))}
    raise UnsupportedModel(f"{path.name}: unknown embedding layout")


def _encoders(pipe) -> dict[str, tuple[object, object]]:
    pairs = {}
    if getattr(pipe, "text_encoder", None) is not None:
        pairs["clip_l"] = (pipe.text_encoder, pipe.tokenizer)
    if getattr(pipe, "text_encoder_2", None) is not None:
        pairs["clip_g"] = (pipe.text_encoder_2, pipe.tokenizer_2)
    return pairs


def _width(encoder) -> int:
    return encoder.get_input_embeddings().weight.shape[-1]


def _parts_for(pipe, vectors: dict[str, torch.Tensor]) -> list[tuple[torch.Tensor, object, object]]:
    """Match an embedding's tensors to the pipeline's encoders; raise ValueError when widths do not fit."""
    encoders = _encoders(pipe)
    if "" in vectors:
        if len(encoders) != 1:
            raise ValueError("an SDXL model needs an embedding with clip_l and clip_g vectors")
        encoder, tokenizer = next(iter(encoders.values()))
        wanted = [(vectors[""], encoder, tokenizer)]
    else:
        if set(vectors) != set(encoders):
            raise ValueError("a clip_l/clip_g embedding fits SDXL models only")
        wanted = [(vectors[k], *encoders[k]) for k in encoders]
    for tensor, encoder, _ in wanted:
        if tensor.ndim != 2 or tensor.shape[-1] != _width(encoder):
            raise ValueError(f"width {tensor.shape[-1]} does not fit this model's text encoder ({_width(encoder)})")
    return wanted


def token_for(name: str) -> str:
    """The tokenizer token standing for embedding ``name``.

    diffusers refuses a token that is already a word of the vocabulary (an embedding called ``cat``), so each
    embedding gets its own token and prompts are rewritten word by word (see ``substitute``)."""
    return f"<emb:{name}>"


def substitute(text: str, names: list[str]) -> str:
    """Replace each whole-word embedding name in ``text`` with its token (longest names first)."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w<:]){re.escape(name)}(?![\w>])", lambda _: token_for(name), text)
    return text


def load_embedding(pipe, name: str, path: Path, state: EmbeddingState) -> None:
    """Add ``name`` to every text encoder of ``pipe``; a file that does not fit is recorded as skipped."""
    try:
        parts = _parts_for(pipe, read_embedding(path))
    except (ValueError, UnsupportedModel) as exc:
        state.skipped[name] = str(exc)
        return
    token = token_for(name)
    for tensor, encoder, tokenizer in parts:
        pipe.load_textual_inversion({token: tensor}, token=token, text_encoder=encoder, tokenizer=tokenizer)
    vectors = parts[0][0].shape[0]
    state.loaded[name] = (path, path.stat().st_mtime_ns, vectors)
    state.tokens[name] = [token] + [f"{token}_{i}" for i in range(1, vectors)]


def unload_all(pipe, state: EmbeddingState) -> None:
    """Remove every embedding token, restoring the text encoders' original vocabularies exactly."""
    tokens = [token for names in state.tokens.values() for token in names]
    if tokens:
        for encoder, tokenizer in _encoders(pipe).values():
            pipe.unload_textual_inversion(tokens, tokenizer=tokenizer, text_encoder=encoder)
    state.loaded.clear()
    state.skipped.clear()
    state.tokens.clear()
