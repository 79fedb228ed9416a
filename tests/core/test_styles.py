"""Tests for modules.core.styles and style_store: A1111's prompt styles and its styles.csv."""
from __future__ import annotations

import doctest

import pytest

from modules.core import styles
from modules.core.errors import InvalidRequest
from modules.core.style_store import StyleStore, default_file
from modules.core.styles import PromptStyle, apply_styles, extract_styles, merge_style, strip_infotext_styles

CINEMA = PromptStyle("Cinema", "{prompt}, cinematic lighting, film grain", "cartoon, {prompt}, 3d render")
ANIME = PromptStyle("Anime", "anime style, cel shading", "photo")
PORTRAIT = PromptStyle("Portrait", "portrait of {prompt}, 85mm", "")
EMPTY = PromptStyle("Empty")


def test_doctests():
    assert doctest.testmod(styles).failed == 0


@pytest.mark.parametrize("style_text,prompt,expected", [
    ("{prompt}, masterpiece", "a cat", "a cat, masterpiece"),
    ("best, {prompt}, {prompt}", "x", "best, x, x"),  # every placeholder is replaced
    ("{prompt}", "  spaced  ", "  spaced  "),  # with a placeholder nothing is stripped
    ("masterpiece", "a cat", "a cat, masterpiece"),
    ("  masterpiece  ", "  a cat  ", "a cat, masterpiece"),
    ("masterpiece", "", "masterpiece"),
    ("", "a cat", "a cat"),
    ("", "", ""),
])
def test_merge_style(style_text, prompt, expected):
    assert merge_style(style_text, prompt) == expected


def test_styles_apply_in_order_to_both_prompts():
    assert apply_styles("a fox", "blurry", [PORTRAIT, CINEMA]) == (
        "portrait of a fox, 85mm, cinematic lighting, film grain", "cartoon, blurry, 3d render")
    assert apply_styles("a fox", "blurry", [CINEMA, PORTRAIT]) == (
        "portrait of a fox, cinematic lighting, film grain, 85mm", "cartoon, blurry, 3d render")
    assert apply_styles("a fox", "", []) == ("a fox", "")


@pytest.mark.parametrize("chosen", [[CINEMA], [ANIME], [PORTRAIT, CINEMA], [ANIME, CINEMA], [CINEMA, ANIME]])
def test_extract_undoes_apply(chosen):
    prompt, negative = apply_styles("a fox in the snow", "blurry", chosen)
    names, left, left_negative = extract_styles(prompt, negative, [ANIME, CINEMA, PORTRAIT, EMPTY])
    assert (names, left, left_negative) == (tuple(s.name for s in chosen), "a fox in the snow", "blurry")


def test_extract_needs_both_prompts_to_match():
    prompt, _ = apply_styles("a fox", "blurry", [ANIME])
    assert extract_styles(prompt, "blurry", [ANIME]) == ((), prompt, "blurry")  # negative lacks ", photo"


def test_extract_never_matches_an_empty_style_or_two_placeholders():
    twice = PromptStyle("Twice", "{prompt} and {prompt}")
    assert extract_styles("x and x", "", [EMPTY, twice]) == ((), "x and x", "")


def test_extract_style_without_negative_drops_a_trailing_comma_of_the_negative():
    # A1111 quirk: an empty style text "matches" any prompt and strips a trailing ", "
    style = PromptStyle("A", "anime style, cel shading")
    assert extract_styles("a fox, anime style, cel shading", "blurry, ", [style]) == (("A",), "a fox", "blurry")


def _write(path, text: str, bom: bool = False) -> None:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))


def test_store_reads_a1111_files(tmp_path):
    _write(tmp_path / "styles.csv", 'name,prompt,negative_prompt\n'
           '"Cinema","{prompt}, cinematic lighting, film grain","cartoon, {prompt}, 3d render"\n'
           '# Portraits,,\n'
           'Portrait, "portrait of {prompt}, 85mm",\n'
           'Short\n', bom=True)
    store = StyleStore([tmp_path / "styles.csv"])
    assert store.styles() == (CINEMA, PORTRAIT, PromptStyle("Short"))
    assert store.get("Cinema") == CINEMA and store.get("# Portraits") is None and store.get("cinema") is None


def test_store_reads_the_old_name_text_format(tmp_path):
    _write(tmp_path / "styles.csv", "name,text\nOld,old text\n")
    assert StyleStore([tmp_path / "styles.csv"]).styles() == (PromptStyle("Old", "old text", ""),)


def test_store_missing_or_broken_files_give_no_styles(tmp_path):
    assert StyleStore([tmp_path / "absent.csv"]).styles() == ()
    (tmp_path / "bad.csv").write_bytes(b"name,prompt\n\xff\xfe\xfa,x\n")
    store = StyleStore([tmp_path / "bad.csv"])
    assert store.styles() == ()
    with pytest.raises(InvalidRequest):
        store.save_style(ANIME)  # never overwrite a file we could not read
    assert (tmp_path / "bad.csv").read_bytes() == b"name,prompt\n\xff\xfe\xfa,x\n"


def test_store_wildcards_load_every_match_later_files_win(tmp_path):
    _write(tmp_path / "styles.csv", "name,prompt\nA,first\nB,b\n")
    _write(tmp_path / "styles_extra.csv", "name,prompt\nA,second\n")
    _write(tmp_path / "other.csv", "name,prompt\nC,c\n")
    store = StyleStore([tmp_path / "styles*.csv"])
    assert {s.name: s.prompt for s in store.styles()} == {"A": "second", "B": "b"}
    assert store.default_path == tmp_path / "styles.csv"
    assert default_file(tmp_path / "*.csv") == tmp_path / "styles.csv"


def test_store_apply_skips_unknown_names(tmp_path):
    _write(tmp_path / "styles.csv", "name,prompt,negative_prompt\nAnime,\"anime style, cel shading\",photo\n")
    store = StyleStore([tmp_path / "styles.csv"])
    assert store.apply("a fox", "", ["Nope", "Anime", "Nope"]) == ("a fox, anime style, cel shading", "photo")
    assert store.extract("a fox, anime style, cel shading", "photo") == (("Anime",), "a fox", "")


def test_store_save_creates_the_file(tmp_path):
    store = StyleStore([tmp_path / "styles.csv"])
    store.save_style(CINEMA)
    raw = (tmp_path / "styles.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfname,prompt,negative_prompt\r\n")
    assert StyleStore([tmp_path / "styles.csv"]).styles() == (CINEMA,)
    assert not (tmp_path / "styles.csv.bak").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["styles.csv"]  # no temp file left behind


def test_store_save_keeps_other_rows_and_columns_and_a_backup(tmp_path):
    original = "name,prompt,negative_prompt,author\n# Mine,,,\nAnime,old,photo,me\nOther,x,y,you\n"
    _write(tmp_path / "styles.csv", original)
    store = StyleStore([tmp_path / "styles.csv"])
    store.save_style(PromptStyle("Anime", "anime style", "photo, 3d"))
    assert (tmp_path / "styles.csv.bak").read_text(encoding="utf-8") == original  # the file as it was
    store.save_style(PORTRAIT)
    text = (tmp_path / "styles.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["name,prompt,negative_prompt,author", "# Mine,,,",
                                 "Anime,anime style,\"photo, 3d\",me", "Other,x,y,you",
                                 "Portrait,\"portrait of {prompt}, 85mm\",,"]
    assert "Portrait" not in (tmp_path / "styles.csv.bak").read_text(encoding="utf-8-sig")
    assert [s.name for s in store.styles()] == ["Anime", "Other", "Portrait"]


def test_store_delete_and_invalid_names(tmp_path):
    _write(tmp_path / "styles.csv", "name,prompt\n#note,\nA,a\nB,b\n")
    store = StyleStore([tmp_path / "styles.csv"])
    store.delete_style("A")
    store.delete_style("missing")
    assert [s.name for s in store.styles()] == ["B"]
    assert "#note" in (tmp_path / "styles.csv").read_text(encoding="utf-8-sig")
    for bad in ("", "  ", "#comment"):
        with pytest.raises(InvalidRequest):
            store.save_style(PromptStyle(bad, "x"))


def test_store_reload_sees_edits_on_disk(tmp_path):
    path = tmp_path / "styles.csv"
    store = StyleStore([path])
    _write(path, "name,prompt\nNew,n\n")
    assert store.styles() == ()
    store.reload()
    assert store.styles() == (PromptStyle("New", "n"),)


def _info(prompt: str, negative: str = "", **fields) -> dict:
    return {"Prompt": prompt, "Negative prompt": negative, "Steps": "20", **fields}


@pytest.mark.parametrize("mode,styled_expected,plain_expected", [
    ("Apply if any", ["Anime"], None),
    ("Apply", ["Anime"], []),
    ("Discard", None, None),
])
def test_infotext_styles_modes(mode, styled_expected, plain_expected):
    styled = strip_infotext_styles(_info("a fox, anime style, cel shading", "photo"), [CINEMA, ANIME], mode)
    assert (styled["Prompt"], styled["Negative prompt"]) == ("a fox", "")
    assert styled.get("Styles array") == styled_expected
    plain = strip_infotext_styles(_info("a fox", "blurry"), [CINEMA, ANIME], mode)
    assert (plain["Prompt"], plain["Negative prompt"]) == ("a fox", "blurry")
    assert plain.get("Styles array") == plain_expected


def test_infotext_styles_ignore_leaves_the_infotext_alone():
    info = _info("a fox, anime style, cel shading", "photo")
    assert strip_infotext_styles(info, [ANIME], "Ignore") == info


def test_infotext_styles_with_hires_prompts():
    base = _info("a fox, anime style, cel shading", "photo")
    same = strip_infotext_styles({**base, "Hires prompt": "a fox, anime style, cel shading"}, [ANIME])
    assert (same["Prompt"], same["Hires prompt"], same["Hires negative prompt"]) == ("a fox", "", "")
    other = strip_infotext_styles({**base, "Hires prompt": "a wolf, anime style, cel shading"}, [ANIME])
    assert (other["Hires prompt"], other["Styles array"]) == ("a wolf", ["Anime"])
    differs = {**base, "Hires prompt": "a wolf"}
    assert strip_infotext_styles(differs, [ANIME]) == differs  # hires lacks the style: nothing is stripped


def test_store_concurrent_saves_keep_every_style(tmp_path):
    import threading

    store = StyleStore([tmp_path / "styles.csv"])
    threads = [threading.Thread(target=store.save_style, args=(PromptStyle(f"S{i}", f"p{i}"),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s.name for s in StyleStore([tmp_path / "styles.csv"]).styles()) == [f"S{i}" for i in range(8)]
