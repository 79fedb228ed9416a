"""A1111 prompt encoding on the tiny real-layout checkpoints: chunking, emphasis, clip skip, SDXL, embeddings."""
from __future__ import annotations

import copy

import pytest
import torch
from diffusers import StableDiffusionPipeline

from modules.adapters.embeddings import EmbeddingState, load_embedding, unload_all
from modules.adapters.prompt_chunks import TokenIds, chunk_tokens
from modules.adapters.prompt_embeds import prompt_encoder_for
from modules.core.errors import InvalidRequest
from tests.support.tiny_addons import build_embedding
from tests.support.tiny_pipelines import load_tiny

WORDS = ("cat", "dog", "tree", "house", "red", "blue", "car", "sky")
BREAK = ("BREAK", -1.0)


def words(count: int, start: int = 0) -> str:
    """``count`` one-token words."""
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(count))


@pytest.fixture(scope="module")
def loaded(tiny_cache):
    """``loaded(family)`` -> LoadedCheckpoint, each family loaded once per module."""
    cache = {}

    def get(family: str):
        if family not in cache:
            cache[family] = load_tiny(family, tiny_cache)
        return cache[family]
    return get


def encoder_for(loaded_checkpoint, **kwargs):
    return prompt_encoder_for(loaded_checkpoint.handle.pipe, loaded_checkpoint.family, **kwargs)


@pytest.mark.parametrize("family", ["sd15", "sd2"])
def test_short_prompt_equals_diffusers_encode_prompt(loaded, family):
    checkpoint = loaded(family)
    ours = encoder_for(checkpoint).encode([("a photo of a cat", 1.0)])
    theirs, _ = checkpoint.handle.pipe.encode_prompt("a photo of a cat", "cpu", 1, False)
    assert ours.embeds.shape == (1, 77, theirs.shape[-1]) and ours.pooled is None
    assert torch.allclose(ours.embeds, theirs, atol=1e-6)


def test_sdxl_embeds_and_pooled_equal_diffusers_default(loaded):
    checkpoint = loaded("sdxl")
    encoder = encoder_for(checkpoint)
    ours = encoder.encode([("a photo of a cat", 1.0)])
    embeds, _, pooled, _ = checkpoint.handle.pipe.encode_prompt("a photo of a cat",
                                                                do_classifier_free_guidance=False)
    assert ours.embeds.shape == embeds.shape and torch.allclose(ours.embeds, embeds, atol=1e-6)
    assert torch.allclose(ours.pooled, pooled, atol=1e-6)
    # A1111 ignores clip skip on SDXL unless sdxl_clip_l_skip; then clip skip 2 is the default layer
    assert torch.equal(encoder.encode([("a cat", 1.0)], clip_skip=3).embeds, encoder.encode([("a cat", 1.0)]).embeds)
    skipped = encoder.encode([("a cat", 1.0)], clip_skip=2, sdxl_clip_l_skip=True)
    assert torch.allclose(skipped.embeds, encoder.encode([("a cat", 1.0)]).embeds, atol=1e-6)
    last = encoder.encode([("a cat", 1.0)], clip_skip=1, sdxl_clip_l_skip=True).embeds
    assert not torch.allclose(last[..., :64], skipped.embeds[..., :64])  # CLIP-L part changes...
    assert torch.equal(last[..., 64:], skipped.embeds[..., 64:])  # ...OpenCLIP-bigG's does not


def test_sdxl_refiner_uses_openclip_only(loaded):
    checkpoint = loaded("sdxl-refiner")
    ours = encoder_for(checkpoint).encode([("a photo of a cat", 1.0)])
    embeds, _, pooled, _ = checkpoint.handle.pipe.encode_prompt("a photo of a cat",
                                                                do_classifier_free_guidance=False)
    assert ours.embeds.shape == embeds.shape == (1, 77, 128)
    assert torch.allclose(ours.embeds, embeds, atol=1e-6) and torch.allclose(ours.pooled, pooled, atol=1e-6)


def test_sd1_clip_skip_matches_diffusers_and_sd2_ignores_it(loaded):
    sd1 = loaded("sd15")
    encoder = encoder_for(sd1)
    skip2 = encoder.encode([("a photo of a cat", 1.0)], clip_skip=2).embeds
    # clip skip 2 = the same text encoder without its last layer (final layer norm kept)
    shorter = copy.deepcopy(sd1.handle.pipe.text_encoder)
    shorter.encoder.layers = shorter.encoder.layers[:-1]
    theirs, _ = StableDiffusionPipeline.from_pipe(sd1.handle.pipe, text_encoder=shorter).encode_prompt(
        "a photo of a cat", "cpu", 1, False)
    assert torch.allclose(skip2, theirs, atol=1e-6)
    assert not torch.allclose(skip2, encoder.encode([("a photo of a cat", 1.0)]).embeds)
    sd2 = encoder_for(loaded("sd2"))
    assert torch.equal(sd2.encode([("a cat", 1.0)], clip_skip=2).embeds, sd2.encode([("a cat", 1.0)]).embeds)


def test_long_prompt_is_chunked_not_truncated(loaded):
    encoder = encoder_for(loaded("sd15"))
    prompt = words(200)
    assert encoder.count_tokens([(prompt, 1.0)]) == (200, 225)
    base = encoder.encode([(prompt, 1.0)]).embeds
    assert base.shape == (1, 231, 64)
    tokens = prompt.split()
    tokens[150] = "moon"  # the first word of the third chunk
    changed = encoder.encode([(" ".join(tokens), 1.0)]).embeds
    assert torch.equal(changed[:, :154], base[:, :154]) and not torch.allclose(changed[:, 154:], base[:, 154:])


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_break_starts_a_new_chunk_encoded_on_its_own(loaded, family):
    encoder = encoder_for(loaded(family))
    both = encoder.encode([("a red cat", 1.0), BREAK, ("a blue dog", 1.0)])
    assert both.embeds.shape[1] == 154
    first, second = encoder.encode([("a red cat", 1.0)]), encoder.encode([("a blue dog", 1.0)])
    assert torch.allclose(both.embeds[:, :77], first.embeds, atol=1e-6)
    assert torch.allclose(both.embeds[:, 77:], second.embeds, atol=1e-6)
    if both.pooled is not None:  # SDXL: the pooled vector is the first chunk's
        assert torch.allclose(both.pooled, first.pooled, atol=1e-6)
    assert encoder.count_tokens([("a red cat", 1.0), BREAK, ("a blue dog", 1.0)]) == (78, 150)


def test_emphasis_modes(loaded):
    encoder = encoder_for(loaded("sd15"))
    plain = [("a ", 1.0), ("red", 1.0), (" cat", 1.0)]
    strong = [("a ", 1.0), ("red", 1.5), (" cat", 1.0)]
    original = encoder.encode(strong).embeds
    assert not torch.allclose(original, encoder.encode(plain).embeds)
    assert torch.equal(encoder.encode(strong, emphasis="Ignore").embeds, encoder.encode(plain).embeds)
    no_norm = encoder.encode(strong, emphasis="No norm").embeds
    plain_z = encoder.encode(plain, emphasis="No norm").embeds
    # No norm: exactly the weighted token (position 2 = "red") scaled, nothing else
    assert torch.allclose(no_norm[0, 2], plain_z[0, 2] * 1.5) and torch.equal(no_norm[0, 3:], plain_z[0, 3:])
    # Original: the same direction, rescaled so the chunk's mean is unchanged
    assert torch.allclose(original.mean(), plain_z.mean(), atol=1e-6)
    assert torch.allclose(original, no_norm * (plain_z.mean() / no_norm.mean()), atol=1e-6)


def test_bad_settings_are_refused(loaded):
    encoder = encoder_for(loaded("sd15"))
    with pytest.raises(InvalidRequest, match="emphasis"):
        encoder.encode([("a", 1.0)], emphasis="Loud")
    with pytest.raises(InvalidRequest, match="clip skip"):
        encoder.encode([("a", 1.0)], clip_skip=0)


def test_padding_per_family(loaded):
    sd1, sd2 = encoder_for(loaded("sd15")), encoder_for(loaded("sd2"))
    one = sd1.chunk([("cat", 1.0)]).chunks[0].tokens
    two = sd2.chunk([("cat", 1.0)]).chunks[0].tokens
    assert one[:3] == two[:3] == (49406, 2368, 49407) and len(one) == len(two) == 77
    assert set(one[3:]) == {49407} and set(two[3:]) == {0}  # SD1 pads with EOS, OpenCLIP with "!"
    sdxl = encoder_for(loaded("sdxl"))
    assert sdxl.chunk([("cat", 1.0)], 0).chunks[0].tokens == one
    assert sdxl.chunk([("cat", 1.0)], 1).chunks[0].tokens == two
    assert sd1.count_tokens([("", 1.0)]) == (0, 75)


def test_sdxl_empty_negative_is_zero(loaded):
    encoder = encoder_for(loaded("sdxl"))
    negative = encoder.encode_negative([("", 1.0)])
    assert not negative.embeds.any() and not negative.pooled.any() and negative.embeds.shape == (1, 77, 192)
    assert encoder.encode_negative([("ugly", 1.0)]).embeds.any()
    assert encoder_for(loaded("sd15")).encode_negative([("", 1.0)]).embeds.any()


def test_comma_backtrack_moves_the_last_phrase():
    ids = TokenIds(bos=1, eos=2, pad=0, comma=9)
    tokens = [5] * 70 + [9] + [6] * 10  # 81 tokens, a comma at 70
    moved = chunk_tokens([(tokens, 1.0)], ids, comma_backtrack=20)
    assert [c.tokens[1:].index(2) for c in moved.chunks] == [71, 10]  # EOS right after the comma, then 4 + 6
    assert moved.chunks[1].tokens[1:11] == (6,) * 10 and moved.token_count == 85
    plain = chunk_tokens([(tokens, 1.0)], ids, comma_backtrack=0)
    assert [c.tokens[1:].index(2) for c in plain.chunks] == [75, 6] and plain.token_count == 81
    far = chunk_tokens([([5] * 50 + [9] + [6] * 30, 1.0)], ids, comma_backtrack=20)
    assert [c.tokens[1:].index(2) for c in far.chunks] == [75, 6]  # the comma is 25 tokens back: too far


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_multi_vector_embedding_is_expanded_and_never_split(loaded, tmp_path, family):
    checkpoint = loaded(family)
    pipe = checkpoint.handle.pipe
    state = EmbeddingState()
    load_embedding(pipe, "shiny", build_embedding(family, tmp_path / "shiny.safetensors", vectors=3), state)
    try:
        encoder = encoder_for(checkpoint, embedding_names=["shiny"])
        group = tuple(pipe.tokenizer.convert_tokens_to_ids(state.tokens["shiny"]))
        chunked = encoder.chunk([(words(73) + " shiny", 1.0)])
        assert [c.tokens[1:].index(49407) for c in chunked.chunks] == [73, 3]
        assert chunked.chunks[1].tokens[1:4] == group  # moved whole to the next chunk
        assert encoder.chunk([(words(72) + " shiny", 1.0)]).chunks[0].tokens[73:76] == group
        assert encoder.encode([(words(73) + " shiny", 1.0)]).embeds.shape[1] == 154
        with_emb = encoder.encode([("a shiny cat", 1.2)]).embeds
        assert not torch.allclose(with_emb, encoder.encode([("a cat cat cat cat", 1.2)]).embeds)
        assert encoder.count_tokens([("a shiny cat", 1.0)]) == (5, 75)
    finally:
        unload_all(pipe, state)
