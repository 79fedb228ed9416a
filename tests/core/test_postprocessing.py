"""The Extras job on real files: sizes, A1111's upscale rules, two-upscaler blend, metadata chunks and naming.

The model call is a Pillow stand-in here (core has no torch); the real network is covered in tests/e2e.
"""
from __future__ import annotations


import pytest
from PIL import Image, ImageChops
from PIL.PngImagePlugin import PngInfo

from modules.core.errors import InvalidRequest, ModelNotFound
from modules.core.job_queue import JobQueue
from modules.core.paths import Paths
from modules.core.image_input import open_image
from modules.core.postprocessing import ExtrasInput, ExtrasOptions, PostprocessingService, target_size
from modules.core.progress import ProgressTracker
from modules.core.settings import SettingsStore
from modules.core.upscalers import UpscalerCatalog, upscaler_folders


class PixelDoubler:
    """A ×2 'model': nearest-neighbour doubling, recording each call's tile settings."""

    def __init__(self):
        self.calls = []

    def upscale(self, image, path, *, tile, overlap):
        self.calls.append((path.name, image.size, tile, overlap))
        return image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)


@pytest.fixture
def env(tmp_path):
    paths = Paths.from_root(tmp_path / "data", install_dir=tmp_path)
    model = paths.models_dir / "ESRGAN" / "2x-doubler.pth"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    network = PixelDoubler()
    settings = SettingsStore(paths.config_file)
    progress = ProgressTracker()
    service = PostprocessingService(catalog=UpscalerCatalog(upscaler_folders(paths.models_dir)), network=network,
                                    settings=settings, paths=paths, progress=progress, queue=JobQueue(progress))
    return paths, service, network, settings


def _gradient(w=40, h=24) -> Image.Image:
    image = Image.new("RGB", (w, h))
    image.putdata([(x * 6 % 256, y * 10 % 256, (x * y) % 256) for y in range(h) for x in range(w)])
    return image


def _run(service, image=None, save=False, **options):
    return service.run(ExtrasOptions(**options), [ExtrasInput(image or _gradient())], save=save)


def test_scale_by_with_lanczos_rounds_down_to_multiples_of_8_and_writes_infotext(env):
    _, service, _, _ = env
    out = _run(service, _gradient(41, 23), upscaler_1="Lanczos", upscaling_resize=2).outputs[0]
    assert out.image.size == (80, 40)
    assert out.infotext == "Postprocess upscale by: 2, Postprocess upscaler: Lanczos"
    assert target_size(41, 23, 2.5) == (96, 56)


def test_upscaler_1_none_leaves_the_image_untouched(env):
    _, service, _, _ = env
    source = _gradient()
    out = _run(service, source, upscaler_1="None", upscaling_resize=4).outputs[0]
    assert out.image.size == source.size and out.infotext == ""
    assert ImageChops.difference(out.image, source).getbbox() is None


def test_model_runs_until_the_factor_is_reached_then_lanczos_to_target(env):
    _, service, network, settings = env
    settings.update({"ESRGAN_tile": 64, "ESRGAN_tile_overlap": 4})
    out = _run(service, upscaler_1="2x-doubler", upscaling_resize=3).outputs[0]
    assert [c[1] for c in network.calls] == [(40, 24), (80, 48)], "two ×2 passes to pass ×3"
    assert {c[2:] for c in network.calls} == {(64, 4)}, "tile settings reach the model"
    assert out.image.size == (120, 72)
    network.calls.clear()
    exact = _run(service, upscaler_1="2x-doubler", upscaling_resize=2).outputs[0]
    assert len(network.calls) == 1 and exact.image.size == (80, 48)
    assert ImageChops.difference(exact.image, _gradient().resize((80, 48), Image.Resampling.NEAREST)).getbbox() \
        is None


def test_scale_to_with_crop_gives_the_exact_size_centred(env):
    _, service, _, _ = env
    out = _run(service, upscaler_1="Nearest", resize_mode=1, upscaling_resize_w=64, upscaling_resize_h=64,
               upscaling_crop=True).outputs[0]
    assert out.image.size == (64, 64)
    assert out.infotext == ("Postprocess upscale to: 64x64, Postprocess crop to: 64x64, "
                            "Postprocess upscaler: Nearest")
    uncropped = _run(service, upscaler_1="Nearest", resize_mode=1, upscaling_resize_w=64, upscaling_resize_h=64,
                     upscaling_crop=False).outputs[0]
    assert uncropped.image.size == (104, 64), "scale = max(64/40, 64/24) = 2.67, rounded down to 8"


def test_second_upscaler_is_blended_by_visibility(env):
    _, service, _, _ = env
    first = _run(service, upscaler_1="Lanczos").outputs[0].image
    second = _run(service, upscaler_1="Nearest").outputs[0].image
    blended = _run(service, upscaler_1="Lanczos", upscaler_2="Nearest", upscaler_2_visibility=0.25).outputs[0]
    assert ImageChops.difference(blended.image, Image.blend(first, second, 0.25)).getbbox() is None
    assert blended.infotext.endswith("Postprocess upscaler: Lanczos, Postprocess upscaler 2: Nearest")
    hidden = _run(service, upscaler_1="Lanczos", upscaler_2="Nearest", upscaler_2_visibility=0).outputs[0]
    assert "upscaler 2" not in hidden.infotext
    assert ImageChops.difference(hidden.image, first).getbbox() is None


def test_saved_png_keeps_parameters_and_adds_postprocessing_and_extras(env, tmp_path):
    paths, service, _, _ = env
    info = PngInfo()
    info.add_text("parameters", "a cat\nSteps: 20, Seed: 1")
    _gradient().save(tmp_path / "src.png", pnginfo=info)
    source = open_image(tmp_path / "src.png")
    result = service.run(ExtrasOptions(upscaler_1="Lanczos"), [ExtrasInput(source)], save=True)
    again = service.run(ExtrasOptions(upscaler_1="Lanczos"), [ExtrasInput(source)], save=True)
    folder = paths.data_dir / "outputs" / "extras-images"
    assert result.outputs[0].path == folder / "00000.png" and again.outputs[0].path == folder / "00001.png"
    saved = Image.open(folder / "00000.png")
    assert saved.text == {"parameters": "a cat\nSteps: 20, Seed: 1",
                          "postprocessing": "Postprocess upscale by: 2, Postprocess upscaler: Lanczos",
                          "extras": "Postprocess upscale by: 2, Postprocess upscaler: Lanczos"}
    assert result.html_info == "<p>Postprocess upscale by: 2, Postprocess upscaler: Lanczos</p>"


def test_batch_outputs_take_the_source_names_safely(env):
    paths, service, _, settings = env
    inputs = [ExtrasInput(_gradient(), "holiday photo.jpg"), ExtrasInput(_gradient(), "../../evil.png")]
    result = service.run(ExtrasOptions(upscaler_1="Nearest"), inputs, save=True)
    folder = paths.data_dir / "outputs" / "extras-images"
    assert [o.path for o in result.outputs] == [folder / "holiday photo.png", folder / "evil.png"]
    settings.update({"enable_pnginfo": False})
    plain = service.run(ExtrasOptions(upscaler_1="Nearest"), inputs[:1], save=True)
    assert Image.open(plain.outputs[0].path).text == {}


def test_output_folder_outside_the_data_dir_is_refused(env):
    _, service, _, _ = env
    with pytest.raises(InvalidRequest, match="outside the data folder"):
        service.run(ExtrasOptions(upscaler_1="Nearest"), [ExtrasInput(_gradient())], save=True,
                    output_dir="../../elsewhere")


@pytest.mark.parametrize("options, message", [
    ({"upscaling_resize": 9}, "upscaling_resize must be between 1 and 8"),
    ({"upscaling_resize": float("nan")}, "upscaling_resize"),
    ({"resize_mode": 2}, "resize_mode"),
    ({"upscaler_2_visibility": 1.5}, "extras_upscaler_2_visibility"),
    ({"face_restoration_visibility": 0.5}, "Face restoration"),
])
def test_out_of_range_options_are_refused(env, options, message):
    _, service, _, _ = env
    with pytest.raises(InvalidRequest, match=message):
        _run(service, upscaler_1="Lanczos", **options)


def test_unknown_upscaler_and_too_large_output(env):
    _, service, _, _ = env
    with pytest.raises(ModelNotFound, match="Upscaler not found: R-ESRGAN 4x"):
        _run(service, upscaler_1="R-ESRGAN 4x+")
    with pytest.raises(InvalidRequest, match="Upscaled size"):
        _run(service, Image.new("RGB", (2000, 2000)), upscaler_1="Lanczos", upscaling_resize=8)


def test_open_image_refuses_non_images(tmp_path):
    with pytest.raises(InvalidRequest, match="invalid image"):
        open_image(b"<svg></svg>")


def test_upscale_to_enlarges_with_the_named_upscaler_then_fits_exactly(env):
    _, service, network, _ = env
    result = service.upscale_to(_gradient(40, 24), "2x-doubler", 72, 50)
    assert result.size == (72, 50) and [c[1] for c in network.calls] == [(40, 24)]
    network.calls.clear()
    assert service.upscale_to(_gradient(40, 24), "2x-doubler", 20, 12).size == (20, 12) and network.calls == []
    plain = service.upscale_to(_gradient(40, 24), "None", 72, 50)
    assert ImageChops.difference(plain, _gradient(40, 24).resize((72, 50), Image.Resampling.LANCZOS)).getbbox() \
        is None
    with pytest.raises(ModelNotFound):
        service.upscale_to(_gradient(), "missing", 80, 48)
