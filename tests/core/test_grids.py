"""Grid layout, labelled grids and grid file numbering (Pillow only)."""
from __future__ import annotations

import datetime

from PIL import Image

from modules.core.grid_labels import GridLabel, labelled_grid, plan_labels
from modules.core.grids import grid_rows, image_grid
from modules.core.job_grid import grid_folder, wants_grid, with_job_grid
from modules.core.output_writer import OutputWriter, next_grid_number
from modules.core.params import Txt2ImgRequest
from modules.core.paths import Paths
from modules.core.png_info import read_png_parameters
from modules.core.results import GeneratedImage, GenerationResult
from modules.core.settings import SettingsStore

COLOURS = ("red", "green", "blue", "yellow", "white", "black")


def _cells(n: int, size=(16, 12)) -> list[Image.Image]:
    return [Image.new("RGB", size, COLOURS[i % len(COLOURS)]) for i in range(n)]


def test_rows_follow_n_rows():
    assert grid_rows(4, 4, -1) == 2
    assert grid_rows(9, 1, -1) == 3
    assert grid_rows(2, 1, -1) == 1
    assert grid_rows(6, 3, 0) == 3
    assert grid_rows(6, 3, 2) == 2
    assert grid_rows(2, 1, 5) == 2  # never more rows than images


def test_image_grid_places_cells_row_by_row():
    grid = image_grid(_cells(3), rows=2)
    assert grid.size == (32, 24)
    assert grid.getpixel((1, 1)) == (255, 0, 0)
    assert grid.getpixel((17, 1)) == (0, 128, 0)
    assert grid.getpixel((1, 13)) == (0, 0, 255)
    assert grid.getpixel((17, 13)) == (0, 0, 0)  # the empty spot stays black


def test_margin_goes_between_cells():
    grid = image_grid(_cells(4), rows=2, margin=5)
    assert grid.size == (16 * 2 + 5, 12 * 2 + 5)


def test_labelled_grid_adds_header_bands_and_draws_text():
    cells = _cells(4, (64, 64))
    columns = [[GridLabel("Sampler: Euler")], [GridLabel("Sampler: DDIM")]]
    rows = [[GridLabel("CFG Scale: 3")], [GridLabel("CFG Scale: 7")]]
    layout = plan_labels((64, 64), columns, rows)
    assert layout.left == 48 and layout.top > 0
    grid = labelled_grid(cells, 2, columns, rows)
    assert grid.size == (layout.left + 128, layout.top + 128)
    assert grid.getpixel((layout.left + 1, layout.top + 1)) == (255, 0, 0)
    header = grid.crop((layout.left, 0, layout.left + 64, layout.top)).convert("L")
    assert header.getextrema()[0] < 100, "the column header has dark text"
    side = grid.crop((0, layout.top, layout.left, layout.top + 64)).convert("L")
    assert side.getextrema()[0] < 100, "the row header has dark text"


def test_no_row_labels_means_no_left_band():
    layout = plan_labels((64, 64), [[GridLabel("a")]], [[GridLabel("")]])
    assert layout.left == 0
    grid = labelled_grid(_cells(2, (64, 64)), 1, [[GridLabel("a")], [GridLabel("b")]], (), margin=4)
    assert grid.size == (132, 64 + layout.top)


def test_inactive_labels_are_grey():
    grid = labelled_grid(_cells(1, (64, 64)), 1, [[GridLabel("off", active=False)]])
    top = plan_labels((64, 64), [[GridLabel("off", active=False)]], ()).top
    darkest = grid.crop((0, 0, 64, top)).convert("L").getextrema()[0]
    assert 100 < darkest < 255


def test_grid_numbers_are_four_digits_and_per_basename(tmp_path):
    writer = OutputWriter(tmp_path)
    first = writer.save_grid(Image.new("RGB", (8, 8)), tmp_path / "g", infotext="hello")
    second = writer.save_grid(Image.new("RGB", (8, 8)), tmp_path / "g", infotext=None)
    xyz = writer.save_grid(Image.new("RGB", (8, 8)), tmp_path / "g", infotext=None, basename="xyz_grid")
    assert (first.name, second.name, xyz.name) == ("grid-0000.png", "grid-0001.png", "xyz_grid-0000.png")
    assert read_png_parameters(first) == "hello"
    assert next_grid_number(tmp_path / "g") == 2
    jpg = writer.save_grid(Image.new("RGB", (8, 8)), tmp_path / "g", infotext="x", fmt="jpg")
    assert jpg.name == "grid-0002.jpg"
    named = writer.save_grid(Image.new("RGB", (8, 8)), tmp_path / "g", infotext=None, decoration="12-a cat: b")
    assert named.name == "grid-0003-12-a cat_ b.png"


def _result(n: int) -> GenerationResult:
    images = tuple(GeneratedImage(image=img, seed=10 + i, infotext=f"p\nSeed: {10 + i}")
                   for i, img in enumerate(_cells(n)))
    return GenerationResult(images=images, prompt="p", negative_prompt="", seed=10, sampler_name="Euler",
                            schedule_label="Automatic", steps=2, cfg_scale=7, width=16, height=12, batch_size=n,
                            model_name="m", model_hash=None, job_timestamp="")


def test_job_grid_is_saved_and_shown_first(tmp_path):
    store = SettingsStore(tmp_path / "config.json")
    settings = store.current()
    paths = Paths.from_root(tmp_path, install_dir=tmp_path)
    folder = tmp_path / "outputs" / "txt2img-grids"
    result = with_job_grid(_result(4), Txt2ImgRequest(batch_size=4), settings, writer=OutputWriter(tmp_path),
                           folder=folder)
    assert result.grid is not None and result.grid.image.size == (32, 24)
    assert result.grid.path.name == "grid-0000.png"
    assert read_png_parameters(result.grid.path) == "p\nSeed: 10"
    assert result.gallery[0] is result.grid and result.index_of_first_image == 1
    dated = grid_folder(paths, settings, "txt2img", datetime.date(2024, 7, 27))
    assert dated.parent.name == "txt2img-grids" and dated.name == "2024-07-27"


def test_no_grid_for_one_image_unsaved_jobs_or_when_switched_off(tmp_path):
    settings = SettingsStore(tmp_path / "config.json").current()
    assert not wants_grid(Txt2ImgRequest(), settings, 1)
    assert not wants_grid(Txt2ImgRequest(save_images=False), settings, 4)
    assert not wants_grid(Txt2ImgRequest(do_not_save_grid=True), settings, 4)
    off = settings.with_overrides({"grid_only_if_multiple": False})
    assert wants_grid(Txt2ImgRequest(), off, 1)
    hidden = settings.with_overrides({"return_grid": False})
    result = with_job_grid(_result(2), Txt2ImgRequest(), hidden, writer=OutputWriter(tmp_path),
                           folder=tmp_path / "g")
    assert result.grid is None and result.index_of_first_image == 0
    assert (tmp_path / "g" / "grid-0000.png").exists(), "grid_save still saves it"
    extended = settings.with_overrides({"grid_extended_filename": True})
    named = with_job_grid(_result(2), Txt2ImgRequest(), extended, writer=OutputWriter(tmp_path),
                          folder=tmp_path / "g")
    assert named.grid.path.name == "grid-0001-10-p.png"
