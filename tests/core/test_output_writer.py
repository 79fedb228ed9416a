"""Tests for modules.core.output_writer."""
from __future__ import annotations

import datetime
import doctest
import threading
from pathlib import Path

import pytest
from PIL import Image

from modules.core import output_writer
from modules.core.errors import InvalidRequest
from modules.core.output_writer import OutputWriter, dated_folder, next_image_number, sanitize_filename_part


def _img() -> Image.Image:
    return Image.new("RGB", (8, 8), (10, 20, 30))


def test_doctests():
    assert doctest.testmod(output_writer).failed == 0


def test_numbering_starts_at_zero(tmp_path):
    writer = OutputWriter(tmp_path)
    folder = tmp_path / "outputs" / "txt2img-images"
    first = writer.save_image(_img(), folder, seed=123, infotext="x\nSteps: 1, Sampler: Euler, Seed: 123")
    second = writer.save_image(_img(), folder, seed=124, infotext=None)
    assert (first.name, second.name) == ("00000-123.png", "00001-124.png")
    assert first.parent == folder


def test_next_image_number(tmp_path):
    assert next_image_number(tmp_path / "missing") == 0
    assert next_image_number(tmp_path) == 0
    for name in ("00041-5.png", "00007-1-before-highres-fix.png", "12.txt", "grid-0099.png", "abc.png",
                 ".tmp-1.png", "٣٣-1.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "00050x-1.png").write_bytes(b"")
    assert next_image_number(tmp_path) == 42


def test_infotext_chunk_present_and_omitted(tmp_path):
    writer = OutputWriter(tmp_path)
    text = "猫\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Seed: 5"
    path = writer.save_image(_img(), tmp_path / "o", seed=5, infotext=text)
    with Image.open(path) as image:
        assert image.info["parameters"] == text
        assert image.size == (8, 8)
    path = writer.save_image(_img(), tmp_path / "o", seed=6, infotext=None)
    with Image.open(path) as image:
        assert "parameters" not in image.info


def test_no_temp_files_remain(tmp_path):
    writer = OutputWriter(tmp_path)
    for seed in range(3):
        writer.save_image(_img(), tmp_path / "o", seed=seed, infotext="p")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["00000-0.png", "00001-1.png", "00002-2.png"]


def test_failed_save_leaves_nothing(tmp_path):
    writer = OutputWriter(tmp_path)
    with pytest.raises(OSError):
        writer.save_image(Image.new("CMYK", (4, 4)), tmp_path / "o", seed=1, infotext=None)
    assert list((tmp_path / "o").iterdir()) == []


@pytest.mark.parametrize("folder", ["../elsewhere", "a/../../b", "/etc"])
def test_escape_refused(tmp_path, folder):
    writer = OutputWriter(tmp_path / "root")
    with pytest.raises(InvalidRequest, match="outside"):
        writer.save_image(_img(), Path(folder), seed=1, infotext=None)
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "b").exists()


def test_relative_folder_under_root(tmp_path):
    writer = OutputWriter(tmp_path)
    path = writer.save_image(_img(), Path("outputs/x/../y"), seed=9, infotext=None)
    assert path == tmp_path / "outputs" / "y" / "00000-9.png"


def test_symlinked_folder_inside_root_allowed(tmp_path):
    elsewhere = tmp_path / "disk"
    elsewhere.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "outputs").symlink_to(elsewhere, target_is_directory=True)
    path = OutputWriter(root).save_image(_img(), root / "outputs", seed=1, infotext=None)
    assert (elsewhere / path.name).exists()


def test_concurrent_saves_get_distinct_numbers(tmp_path):
    writer = OutputWriter(tmp_path)
    paths: list[Path] = []
    lock = threading.Lock()

    def save(seed: int) -> None:
        path = writer.save_image(_img(), tmp_path / "o", seed=7, infotext=str(seed))
        with lock:
            paths.append(path)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.name for p in paths) == [f"{i:05}-7.png" for i in range(16)]


def test_sanitize_filename_part():
    assert sanitize_filename_part("a#b<c>d:e\"f/g\\h|i?j*k\nl\rm\tn") == "a_b_c_d_e_f_g_h_i_j_k_l_m_n"
    assert sanitize_filename_part("x" * 300) == "x" * 128
    assert sanitize_filename_part("abc", max_len=2) == "ab"
    assert sanitize_filename_part("..") == ""
    assert sanitize_filename_part("nul\x00bell\x07") == "nul_bell_"
    long_utf8 = sanitize_filename_part("猫" * 128)
    assert len(long_utf8.encode("utf-8")) <= 200 and set(long_utf8) == {"猫"}


def test_dated_folder():
    assert dated_folder(Path("/o"), datetime.date(2024, 1, 2)) == Path("/o/2024-01-02")


def test_save_named_png_numbers_names_replaces_and_confines(tmp_path):
    writer = OutputWriter(tmp_path)
    image = Image.new("RGB", (4, 4), (9, 9, 9))
    first = writer.save_named_png(image, Path("o"), texts={"parameters": "p", "postprocessing": "x"})
    second = writer.save_named_png(image, Path("o"), texts={})
    assert (first.name, second.name) == ("00000.png", "00001.png")
    assert Image.open(first).text == {"parameters": "p", "postprocessing": "x"} and Image.open(second).text == {}
    named = writer.save_named_png(image, Path("o"), texts={}, name="../my photo")
    again = writer.save_named_png(Image.new("RGB", (2, 2)), Path("o"), texts={}, name="../my photo")
    assert named == again == tmp_path / "o" / ".._my photo.png"
    assert Image.open(again).size == (2, 2), "a named file is replaced, as A1111's default action"
    with pytest.raises(InvalidRequest):
        writer.save_named_png(image, Path("../escape"), texts={})
