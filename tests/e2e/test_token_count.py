"""The prompt token counter through bootstrap, the real DiffusersBackend and the tiny SD1 checkpoint."""
from __future__ import annotations

from modules.core.token_count import TokenCount, TokenCounter
from tests.conftest import install_checkpoint

WORDS = ("cat", "dog", "tree", "house", "red", "blue", "car", "sky")  # one CLIP token each


def words(count: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(count))


def test_counts_with_the_loaded_model_as_a1111(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    counter = TokenCounter(models=ctx.models, settings=ctx.settings, styles=ctx.styles)
    assert counter.count("a cat", steps=20) == TokenCount(None), "no model loaded yet: nothing is loaded for it"
    assert ctx.models.loaded is None
    ctx.models.ensure()
    assert str(counter.count("", steps=20)) == "0/75"
    assert str(counter.count(words(75), steps=20)) == "75/75"
    assert str(counter.count(words(76), steps=20)) == "76/150"
    assert str(counter.count(words(200), steps=20)) == "200/225"
    # emphasis syntax, tags and comments are not tokens; BREAK closes a chunk, counted as 75
    assert str(counter.count("(cat:1.3) [dog] <lora:x:0.5> # comment", steps=20)) == "2/75"
    assert str(counter.count("a red cat BREAK a blue dog", steps=20)) == "78/150"
    # the longest scheduled text decides: 80 words until step 10, 3 after
    assert str(counter.count(f"[{words(80)}:a b c:10]", steps=20)) == "80/150"
    assert str(counter.count(f"[{words(80)}:a b c:10]", steps=5)) == "80/150"
    assert str(counter.count(f"cat AND {words(90)}", steps=20)) == "90/150"
    # comma backtracking: the phrase after a late comma moves on, the first chunk counts as 75
    assert str(counter.count(f"{words(70)}, {words(10)}", steps=20)) == "85/150"
    # emphasis "None" (A1111): brackets and weights are plain text, so they are tokens too
    ctx.settings.update({"emphasis": "None"})
    assert counter.count("(cat:1.3)", steps=20).tokens > 3
