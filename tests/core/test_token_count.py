"""The token counter's rules (which texts are counted, the longest wins, `-/75` without a model), torch-free."""
from __future__ import annotations

import math
import threading

import pytest

from modules.core.errors import Busy
from modules.core.settings import SettingsStore
from modules.core.style_store import StyleStore
from modules.core.token_count import TokenCount, TokenCounter, counted_texts, longest_count


class WordModels:
    """Stands in for ModelManager: one token per word, capacity in 75s; records what it was asked to count."""

    def __init__(self, loaded: object | None = "model", error: Exception | None = None):
        self.loaded, self.error, self.asked = loaded, error, []

    def active_nowait(self):
        return self.loaded

    def count_tokens(self, loaded, text: str, *, parse_emphasis: bool = True) -> tuple[int, int]:
        if self.error is not None:
            raise self.error
        self.asked.append((text, parse_emphasis))
        tokens = len(text.split())
        return tokens, max(1, math.ceil(tokens / 75)) * 75


@pytest.fixture
def settings(tmp_path) -> SettingsStore:
    return SettingsStore(tmp_path / "config.json")


@pytest.fixture
def styles(tmp_path) -> StyleStore:
    path = tmp_path / "styles.csv"
    path.write_text("name,prompt,negative_prompt\nfancy,\"{prompt}, ornate gilded frame\",blurry ugly\n",
                    encoding="utf-8")
    return StyleStore((path,))


def counter(settings, models=None, styles=None) -> TokenCounter:
    return TokenCounter(models=models or WordModels(), settings=settings, styles=styles)


def test_str_and_capacity():
    assert str(TokenCount(0)) == "0/75" and str(TokenCount(200, 225)) == "200/225"
    assert str(TokenCount(None)) == "-/75"
    assert longest_count([]) == TokenCount(0, 75)


def test_longest_schedule_text_and_and_part_is_counted(settings):
    models = WordModels()
    # step 1-5: "a b c d"; steps 6-10: "a x"; AND part: "one two three four five six"
    result = counter(settings, models).count("a [b c d:x:5] AND one two three four five six :0.5", steps=10)
    assert result == TokenCount(6, 75)
    assert [text.split() for text, _ in models.asked] == [["a", "b", "c", "d"], ["a", "x"],
                                                          ["one", "two", "three", "four", "five", "six"]]


def test_steps_change_the_schedule(settings):
    models = WordModels()
    counter(settings, models).count("[a b c:x:5]", steps=3)  # switches after the last step: never "x"
    assert [text for text, _ in models.asked] == ["a b c"]


def test_tags_and_comments_are_left_out(settings):
    models = WordModels()
    assert counter(settings, models).count("cat <lora:detail:0.6> dog # not counted at all\nfox", steps=20) \
        == TokenCount(3, 75)
    settings.update({"enable_prompt_comments": False})
    assert counter(settings, models).count("cat # now counted", steps=20).tokens == 4


def test_negative_prompt_is_not_split_on_and(settings):
    models = WordModels()
    assert counter(settings, models).count("cat AND dog", steps=20, negative=True).tokens == 3
    assert counter(settings, models).count("cat AND dog", steps=20).tokens == 1


def test_styles_are_included(settings, styles):
    count = counter(settings, styles=styles)
    assert count.count("cat", steps=20, styles=["fancy"]).tokens == 4  # "cat, ornate gilded frame"
    assert count.count("bad", steps=20, styles=["fancy"], negative=True).tokens == 3  # "bad, blurry ugly"
    settings.update({"include_styles_into_token_counters": False})
    assert count.count("cat", steps=20, styles=["fancy"]).tokens == 1


def test_emphasis_none_counts_brackets_as_text(settings):
    models = WordModels()
    counter(settings, models).count("(cat:1.2)", steps=20)
    settings.update({"emphasis": "None"})
    counter(settings, models).count("(cat:1.2)", steps=20)
    assert [flag for _, flag in models.asked] == [True, False]


def test_no_model_or_busy_tokenizer_shows_a_dash(settings):
    assert counter(settings, WordModels(loaded=None)).count("cat", steps=20) == TokenCount(None, 75)
    assert str(counter(settings, WordModels(error=Busy("in use"))).count("cat", steps=20)) == "-/75"


def test_counted_texts_with_old_scheduling():
    assert counted_texts("[a:b:2]", 10, use_old_scheduling=True) == ("a", "b")
    assert counted_texts("", 10) == ("",)


def test_counting_does_not_wait_for_a_model_switch(tmp_path, settings):
    """ModelManager holds its lock while loading: the counter answers `-/75` at once instead of waiting."""
    from modules.core.hashes import HashCache
    from modules.core.model_catalog import ModelCatalog
    from modules.core.model_manager import ModelManager

    manager = ModelManager(ModelCatalog((tmp_path,), HashCache(tmp_path / "h.json")), backend=None,
                           settings=settings)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with manager._lock:  # what select_checkpoint does for the whole load
            holding.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait(5)
    try:
        assert manager.active_nowait() is None
        assert TokenCounter(models=manager, settings=settings).count("cat", steps=20) == TokenCount(None)
    finally:
        release.set()
        worker.join()
