"""Weighted prompt fragments -> ``prompt_embeds`` the A1111 way: 75-token chunks, emphasis, clip skip, TI tokens."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from modules.core.errors import InvalidRequest, UnsupportedModel
from modules.core.model_family import ModelFamily

from .embeddings import substitute
from .prompt_chunks import ChunkedPrompt, Fragment, PromptChunk, TokenIds, chunk_tokens, is_break, token_groups

EMPHASIS_MODES = ("Original", "No norm", "Ignore", "None")
MAX_CLIP_SKIP = 12


@dataclass(frozen=True)
class EncodedPrompt:
    """One prompt's conditioning: ``embeds`` (1, 77·k, dim) and, for SDXL, ``pooled`` (1, pooled dim)."""

    embeds: torch.Tensor
    pooled: torch.Tensor | None = None


class _Layer:
    """Which hidden state a tower hands to the UNet (A1111's per-family rules)."""

    SD1 = "sd1"  # CLIP-L: last layer; clip skip N > 1 takes hidden state [-N] and then the final layer norm
    LAST = "last"  # the converted SD2 OpenCLIP already ends one block early (see ``_select``)
    SDXL_L = "sdxl_l"  # SDXL CLIP-L: penultimate layer, no final norm (clip skip only with ``sdxl_clip_l_skip``)
    PENULTIMATE = "penultimate"  # SDXL OpenCLIP-bigG: penultimate layer, no final norm; clip skip ignored


@dataclass(frozen=True)
class _Tower:
    """One text encoder with its tokenizer, special ids and layer rule."""

    tokenizer: object
    encoder: torch.nn.Module
    ids: TokenIds
    layer: str
    pooled: bool = False


def _token_ids(tokenizer, pad: int) -> TokenIds:
    return TokenIds(bos=tokenizer.bos_token_id, eos=tokenizer.eos_token_id, pad=pad,
                    comma=tokenizer.get_vocab().get(",</w>"))


def _tower(tokenizer, encoder, layer: str, *, open_clip: bool, pooled: bool = False) -> _Tower:
    # A1111 pads OpenCLIP chunks with id 0 (``!``) after the EOS and CLIP-L chunks with EOS; diffusers' shipped
    # tokenizers agree (pad_token ``!`` vs ``<|endoftext|>``)
    pad = 0 if open_clip else tokenizer.eos_token_id
    return _Tower(tokenizer, encoder, _token_ids(tokenizer, pad), layer, pooled)


def _select(tower: _Tower, out, clip_skip: int, sdxl_clip_l_skip: bool) -> torch.Tensor:
    """The hidden state A1111 would use for this tower."""
    if tower.layer == _Layer.SD1:
        if clip_skip <= 1:
            return out.last_hidden_state
        return _final_norm(tower.encoder)(out.hidden_states[-clip_skip])
    if tower.layer == _Layer.LAST:
        # SD2 was trained on OpenCLIP's penultimate block + ln_final; diffusers' conversion drops the last
        # block (23 layers), so last_hidden_state is exactly that. A1111 ignores clip skip for SD2.
        return out.last_hidden_state
    if tower.layer == _Layer.SDXL_L and sdxl_clip_l_skip:
        return out.hidden_states[-clip_skip]  # A1111 ``sdxl_clip_l_skip``: no final norm, clip skip 2 = default
    return out.hidden_states[-2]  # SDXL's embedders: layer "hidden" (index 11 of 12) / "penultimate", no norm


def _final_norm(encoder: torch.nn.Module) -> torch.nn.Module:
    # transformers 5 flattened CLIPTextModel (no ``text_model`` wrapper); older versions nest it
    return getattr(encoder, "text_model", encoder).final_layer_norm


def _emphasise(z: torch.Tensor, weights: torch.Tensor, emphasis: str) -> torch.Tensor:
    """Multiply each token's vector by its weight; ``Original`` then restores each chunk's mean (A1111)."""
    if emphasis in ("Ignore", "None"):  # "None" left the brackets in the text, so every weight is 1 anyway
        return z
    before = z.mean(dim=(1, 2), keepdim=True)
    z = z * weights.unsqueeze(-1).to(z.dtype)
    if emphasis == "Original":
        z = z * (before / z.mean(dim=(1, 2), keepdim=True))
    return z


class PromptEncoder:
    """Encode parsed prompt fragments with a pipeline's tokenizer(s) and text encoder(s), as A1111 does."""

    def __init__(self, towers: Sequence[_Tower], *, convert: Callable[[str, object], str] | None = None,
                 embedding_names: Sequence[str] = (), comma_backtrack: int = 20):
        self._towers = tuple(towers)
        self._convert = convert or (lambda text, _tokenizer: text)
        self._names = list(embedding_names)
        self._backtrack = comma_backtrack

    @property
    def zeroes_empty_negative(self) -> bool:
        """SDXL: an empty negative prompt is all zeros (embeds and pooled), as A1111 and diffusers do."""
        return any(tower.pooled for tower in self._towers)

    def chunk(self, fragments: Sequence[Fragment], tower_index: int = 0) -> ChunkedPrompt:
        """Cut fragments into 77-token chunks with ``tower_index``'s tokenizer (embedding tokens expanded)."""
        tower = self._towers[tower_index]
        tokenizer = tower.tokenizer
        tokenized = []
        for text, weight in fragments:
            if is_break((text, weight)):
                tokenized.append((None, weight))
                continue
            text = self._convert(substitute(text, self._names), tokenizer)
            ids = tokenizer(text, add_special_tokens=False, truncation=False, verbose=False).input_ids
            tokenized.append((ids, weight))
        return chunk_tokens(tokenized, tower.ids, groups=token_groups(tokenizer.added_tokens_encoder),
                            comma_backtrack=self._backtrack)

    def count_tokens(self, fragments: Sequence[Fragment]) -> tuple[int, int]:
        """(tokens used, tokens that fit in the chunks used), e.g. (80, 150), for the UI's token counter."""
        chunked = self.chunk(fragments)
        return chunked.token_count, chunked.capacity

    @torch.no_grad()
    def encode(self, fragments: Sequence[Fragment], *, clip_skip: int = 1, emphasis: str = "Original",
               sdxl_clip_l_skip: bool = False) -> EncodedPrompt:
        """Encode ``(text, weight)`` fragments; every chunk is encoded on its own and concatenated."""
        _check(clip_skip, emphasis)
        hidden, pooled = [], None
        for index, tower in enumerate(self._towers):
            chunks = self.chunk(fragments, index).chunks
            z, tower_pooled = self._encode_chunks(tower, chunks, clip_skip, sdxl_clip_l_skip)
            weights = torch.tensor([chunk.weights for chunk in chunks], device=z.device)
            hidden.append(_emphasise(z, weights, emphasis))
            pooled = tower_pooled if tower.pooled else pooled
        if len({z.shape[0] for z in hidden}) != 1:
            raise UnsupportedModel("the text encoders' tokenizers disagree on the prompt's chunks")
        embeds = torch.cat(hidden, dim=-1)  # SDXL: CLIP-L (768) then OpenCLIP-bigG (1280) = 2048
        return EncodedPrompt(embeds=embeds.reshape(1, -1, embeds.shape[-1]), pooled=pooled)

    def encode_negative(self, fragments: Sequence[Fragment], **options) -> EncodedPrompt:
        """Encode a negative prompt; SDXL's empty negative is zeros (A1111 ``force_zero_embeddings``)."""
        encoded = self.encode(fragments, **options)
        if self.zeroes_empty_negative and all(text == "" for text, _ in fragments):
            zero_pooled = None if encoded.pooled is None else torch.zeros_like(encoded.pooled)
            return EncodedPrompt(torch.zeros_like(encoded.embeds), zero_pooled)
        return encoded

    @staticmethod
    def _encode_chunks(tower: _Tower, chunks: Sequence[PromptChunk], clip_skip: int,
                       sdxl_clip_l_skip: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """All chunks of one prompt in one batch: (chunks, 77, dim) and the first chunk's pooled output."""
        device = next(tower.encoder.parameters()).device
        tokens = torch.tensor([chunk.tokens for chunk in chunks], device=device)
        out = tower.encoder(tokens, output_hidden_states=True)
        # SDXL's pooled vector: text projection of the final-normed EOS state, first chunk only (A1111)
        pooled = out.text_embeds[:1] if tower.pooled else None
        return _select(tower, out, clip_skip, sdxl_clip_l_skip), pooled


def _check(clip_skip: int, emphasis: str) -> None:
    if emphasis not in EMPHASIS_MODES:
        raise InvalidRequest(f"emphasis must be one of {list(EMPHASIS_MODES)}, got {emphasis!r}")
    if not 1 <= clip_skip <= MAX_CLIP_SKIP:
        raise InvalidRequest(f"clip skip must be between 1 and {MAX_CLIP_SKIP}, got {clip_skip}")


def prompt_encoder_for(pipe, family: ModelFamily, *, embedding_names: Sequence[str] = (),
                       comma_backtrack: int = 20) -> PromptEncoder:
    """The encoder for a loaded diffusers pipeline of ``family`` (embedding names as in ``adapters.embeddings``)."""
    convert = getattr(pipe, "maybe_convert_prompt", None)  # expands multi-vector TI tokens (T -> T T_1 T_2 …)
    if family is ModelFamily.SDXL_REFINER:
        towers = [_tower(pipe.tokenizer_2, pipe.text_encoder_2, _Layer.PENULTIMATE, open_clip=True, pooled=True)]
    elif family.is_sdxl:
        towers = [_tower(pipe.tokenizer, pipe.text_encoder, _Layer.SDXL_L, open_clip=False),
                  _tower(pipe.tokenizer_2, pipe.text_encoder_2, _Layer.PENULTIMATE, open_clip=True, pooled=True)]
    elif family in (ModelFamily.SD2, ModelFamily.SD2_V, ModelFamily.SD2_INPAINT):
        towers = [_tower(pipe.tokenizer, pipe.text_encoder, _Layer.LAST, open_clip=True)]
    else:
        towers = [_tower(pipe.tokenizer, pipe.text_encoder, _Layer.SD1, open_clip=False)]
    return PromptEncoder(towers, convert=convert, embedding_names=embedding_names, comma_backtrack=comma_backtrack)
