"""The Extras tab: built into the page with the upscaler lists, and its handler run with named inputs."""
from __future__ import annotations

import pytest
from gradio.exceptions import Error as GradioError
from PIL import Image

from modules.core.errors import InvalidRequest
from modules.interfaces.gradio_ui import extras_tab
from modules.interfaces.gradio_ui.app import build_ui
from tests.support.tiny_upscalers import write_esrgan


@pytest.fixture
def ctx(make_context, data_dir):
    write_esrgan(data_dir / "models" / "ESRGAN" / "4x-tiny.pth")
    return make_context()


def _values(**changes) -> dict:
    values = {"mode": "single", "image": None, "files": None, "input_dir": "", "output_dir": "",
              "show_extras_results": True, "resize_mode": 0, "upscaling_resize": 4, "upscaling_resize_w": 512,
              "upscaling_resize_h": 512, "upscaling_crop": True, "upscaler_1": "4x-tiny", "upscaler_2": "None",
              "upscaler_2_visibility": 0}
    return {**values, **changes}


def _image(path, size=(16, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (30, 60, 90)).save(path)
    return path


def test_tab_is_on_the_page_with_the_upscaler_choices(ctx):
    components = {c["props"].get("elem_id"): c["props"] for c in build_ui(ctx).config["components"]}
    assert {"extras_image", "extras_image_batch", "extras_batch_input_dir", "extras_generate",
            "extras_gallery", "html_info_extras"} <= set(components)
    assert [choice[0] for choice in components["extras_upscaler_1"]["choices"]] == [
        "None", "Lanczos", "Nearest", "4x-tiny"]


def test_single_image_is_upscaled_and_saved_as_numbered_png(ctx, tmp_path, data_dir):
    gallery, info = extras_tab.run_extras(ctx, _values(image=str(_image(tmp_path / "in.png"))))
    assert [im.size for im in gallery] == [(64, 32)]
    assert info == "<p>Postprocess upscale by: 4, Postprocess upscaler: 4x-tiny</p>"
    saved = data_dir / "outputs" / "extras-images" / "00000.png"
    assert Image.open(saved).text["postprocessing"] == "Postprocess upscale by: 4, Postprocess upscaler: 4x-tiny"


def test_batch_files_and_folder_keep_source_names(ctx, tmp_path, data_dir):
    files = [str(_image(tmp_path / "up" / "one.png")), str(_image(tmp_path / "up" / "two.jpg"))]
    gallery, _ = extras_tab.run_extras(ctx, _values(mode="files", files=files, upscaler_1="Lanczos",
                                                    upscaling_resize=2))
    assert len(gallery) == 2
    assert sorted(p.name for p in (data_dir / "outputs" / "extras-images").iterdir()) == ["one.png", "two.png"]
    _image(tmp_path / "folder" / "three.webp")
    (tmp_path / "folder" / "notes.txt").write_text("skip me")
    gallery, info = extras_tab.run_extras(ctx, _values(mode="folder", input_dir=str(tmp_path / "folder"),
                                                       output_dir="outputs/upscaled", show_extras_results=False,
                                                       upscaler_1="Nearest", upscaling_resize=2))
    assert gallery == [] and "Nearest" in info
    assert [p.name for p in (data_dir / "outputs" / "upscaled").iterdir()] == ["three.png"]


def test_errors_are_shown_to_the_user(ctx, tmp_path):
    handler_errors = [_values(), _values(mode="folder", input_dir=str(tmp_path / "missing"))]
    for values in handler_errors:
        with pytest.raises(InvalidRequest, match="Choose an image first|Input directory not found"):
            extras_tab.run_extras(ctx, values)
    with pytest.raises(GradioError):
        extras_tab.shown_to_user(lambda: extras_tab.run_extras(ctx, _values()))


def test_refresh_lists_new_files_and_keeps_valid_choices(ctx, data_dir):
    write_esrgan(data_dir / "models" / "SwinIR" / "new-model.pth")
    first, second = extras_tab._refreshed(ctx, "4x-tiny", "gone")
    assert first.value == "4x-tiny" and second.value == "None"
    assert "new-model" in [c[0] if isinstance(c, tuple) else c for c in first.choices]
