"""Upscaler model files through spandrel: detection, safe reading, size rules, caching and tiled inference."""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import spandrel
import torch
from PIL import Image
from safetensors.torch import save_file

from modules.adapters.devices import DevicePolicy
from modules.adapters.upscaler_models import (
    NetworkUpscaler, SizeRule, Tiling, check_usable, describe, fit_tiling, run_tiled)
from modules.core.errors import UnsupportedModel
from tests.support.tiny_upscalers import esrgan_state_dict, swinir_state_dict, write_esrgan

FP32_CPU = DevicePolicy(force_cpu=True, precision="full")


def _noise(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def _to_tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(pixels)).permute(2, 0, 1).unsqueeze(0).float() / 255


@pytest.mark.parametrize("scale", [4, 8])
def test_spandrel_detects_both_esrgan_layouts_as_the_same_network(scale):
    old = describe(esrgan_state_dict(scale=scale, layout="old"), "old.pth")
    new = describe(esrgan_state_dict(scale=scale, layout="new"), "new.pth")
    assert (old.architecture, old.scale, new.architecture, new.scale) == ("ESRGAN", scale, "ESRGAN", scale)
    x = torch.rand(1, 3, 8, 12)
    with torch.inference_mode():
        assert torch.equal(old.descriptor(x), new.descriptor(x)) and old.descriptor(x).shape == (1, 3, 8 * scale,
                                                                                                12 * scale)


@pytest.mark.parametrize("scale, layout, multiple", [(1, "old", 1), (2, "old", 1), (2, "new", 4), (1, "new", 4)])
def test_x2_and_x1_models_of_both_layouts(scale, layout, multiple):
    loaded = describe(esrgan_state_dict(scale=scale, layout=layout), "m.pth")
    assert (loaded.scale, loaded.size.multiple, loaded.architecture) == (scale, multiple, "ESRGAN")
    with torch.inference_mode():
        assert loaded.descriptor(torch.rand(1, 3, 8, 12)).shape == (1, 3, 8 * scale, 12 * scale)


def test_odd_sized_image_through_a_pixel_unshuffle_model_keeps_its_exact_scaled_size(tmp_path):
    path = write_esrgan(tmp_path / "RealESRGAN_x2plus.pth", scale=2, layout="new")
    result = NetworkUpscaler(FP32_CPU).upscale(_noise(21, 13), path, tile=8, overlap=3)
    assert result.size == (42, 26)


def test_tiles_with_enough_overlap_equal_the_untiled_result_and_without_it_seams_show():
    net = describe(esrgan_state_dict(seed=3), "m.pth").descriptor
    pixels = np.asarray(_noise(56, 40))
    with torch.inference_mode():
        whole = run_tiled(net, pixels, scale=4, tiling=Tiling(0, 0), to_tensor=_to_tensor).astype(int)
        # one RRDB block: 17 convolutions at input scale + 4 after upsampling < 24 pixels of context
        tiled = run_tiled(net, pixels, scale=4, tiling=Tiling(16, 24), to_tensor=_to_tensor).astype(int)
        seamed = run_tiled(net, pixels, scale=4, tiling=Tiling(16, 0), to_tensor=_to_tensor).astype(int)
    assert whole.shape == (160, 224, 3) and whole.std() > 1
    assert np.abs(whole - tiled).max() <= 1, "only float rounding may differ"
    assert np.abs(whole - seamed).max() > 8


def test_tiles_of_a_pixel_unshuffle_model_stay_on_its_grid_and_match_the_untiled_run(tmp_path):
    path = write_esrgan(tmp_path / "RealESRGAN_x2plus.pth", scale=2, layout="new", seed=4)
    upscaler, image = NetworkUpscaler(FP32_CPU), _noise(101, 66)
    whole = np.asarray(upscaler.upscale(image, path, tile=0, overlap=0)).astype(int)
    # rounded up to 28 and 40: 17 convolutions at half resolution + 4 after upsampling need ≈ 37 px of context
    tiled = np.asarray(upscaler.upscale(image, path, tile=25, overlap=37)).astype(int)
    assert whole.shape == tiled.shape == (132, 202, 3)
    assert np.abs(whole - tiled).max() <= 1


@pytest.mark.parametrize("tiling, rule, expected", [
    (Tiling(192, 8), SizeRule(), Tiling(192, 8)),
    (Tiling(190, 7), SizeRule(minimum=4, multiple=4), Tiling(192, 8)),
    (Tiling(8, 3), SizeRule(minimum=16), Tiling(16, 3)),
    (Tiling(0, 8), SizeRule(minimum=40, multiple=8, square=True), Tiling(0, 8)),
])
def test_tiles_are_fitted_to_the_models_size_rule(tiling, rule, expected):
    assert fit_tiling(tiling, rule) == expected


def test_images_and_tiles_below_the_models_minimum_size_are_padded_and_cropped_back(tmp_path):
    path = tmp_path / "2x-swinir.safetensors"
    save_file(swinir_state_dict(scale=2), str(path))
    upscaler = NetworkUpscaler(FP32_CPU)
    loaded = upscaler.load(path)
    assert (loaded.architecture, loaded.scale, loaded.size.minimum) == ("SwinIR", 2, 16)
    seen = []
    hook = loaded.module.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape[-2:])))
    try:
        assert upscaler.upscale(_noise(7, 5), path, tile=0, overlap=0).size == (14, 10)
        assert upscaler.upscale(_noise(40, 20), path, tile=8, overlap=2).size == (80, 40)
    finally:
        hook.remove()
    assert min(min(size) for size in seen) >= 16, "every network input meets the minimum"


def test_square_size_rule_is_met_for_every_tile():
    seen = []

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):
            seen.append(tuple(x.shape[-2:]))
            return x * self.weight

    model = Probe()
    descriptor = spandrel.ImageModelDescriptor(
        model, model.state_dict(), architecture=spandrel.MAIN_REGISTRY.get("ESRGAN").architecture, purpose="SR",
        tags=[], supports_half=False, supports_bfloat16=False, scale=1, input_channels=3, output_channels=3,
        size_requirements=spandrel.SizeRequirements(minimum=8, multiple_of=4, square=True))
    pixels = np.asarray(_noise(30, 17))
    tiling = fit_tiling(Tiling(10, 3), SizeRule(8, 4, True))
    out = run_tiled(descriptor, pixels, scale=1, tiling=tiling, to_tensor=_to_tensor)
    assert np.array_equal(out, pixels)
    assert seen and all(h == w and h % 4 == 0 and h >= 8 for h, w in seen)


def test_a_greyscale_model_upscales_the_luminance(tmp_path):
    path = tmp_path / "2x-grey.safetensors"
    save_file(swinir_state_dict(scale=2, channels=1), str(path))
    result = NetworkUpscaler(FP32_CPU).upscale(_noise(20, 18), path, tile=0, overlap=0)
    pixels = np.asarray(result)
    assert result.mode == "RGB" and result.size == (40, 36)
    assert np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2])


def _descriptor(kind, arch: str, purpose: str, channels=(3, 3)):
    model = torch.nn.Conv2d(channels[0], channels[1], 1)
    extra = {"scale": 1} if kind is spandrel.ImageModelDescriptor else {}
    return kind(model, model.state_dict(), architecture=spandrel.MAIN_REGISTRY.get(arch).architecture,
                purpose=purpose, tags=[], supports_half=False, supports_bfloat16=False,
                input_channels=channels[0], output_channels=channels[1], **extra)


@pytest.mark.parametrize("descriptor, message", [
    (lambda: _descriptor(spandrel.MaskedImageModelDescriptor, "LaMa", "Inpainting"),
     "LaMa is an inpainting model"),
    (lambda: _descriptor(spandrel.ImageModelDescriptor, "GFPGAN", "FaceSR"), "GFPGAN is a face restoration model"),
    (lambda: _descriptor(spandrel.ImageModelDescriptor, "ESRGAN", "SR", (4, 3)), "ESRGAN maps 4-channel images to 3-channel"),
])
def test_models_that_are_not_image_upscalers_are_refused_by_name(descriptor, message):
    with pytest.raises(UnsupportedModel, match=f"m.pth: {message}"):
        check_usable(descriptor(), "m.pth")


def test_files_load_from_pth_safetensors_and_real_esrgan_wrapper(tmp_path):
    upscaler = NetworkUpscaler(FP32_CPU)
    image = _noise(12, 10)
    pth = write_esrgan(tmp_path / "a.pth", seed=1)
    st = write_esrgan(tmp_path / "a.safetensors", seed=1)
    wrapped = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": esrgan_state_dict(seed=1, layout="new")}, wrapped)
    params = tmp_path / "params.pth"
    torch.save({"params": {f"module.{k}": v for k, v in esrgan_state_dict(seed=1).items()}}, params)
    results = [np.asarray(upscaler.upscale(image, p, tile=0, overlap=0)) for p in (pth, st, wrapped, params)]
    assert results[0].shape == (40, 48, 3)
    assert all(np.array_equal(results[0], r) for r in results[1:])


def test_last_model_is_cached_until_the_file_changes(tmp_path):
    upscaler = NetworkUpscaler(FP32_CPU)
    path = write_esrgan(tmp_path / "m.pth")
    first = upscaler.load(path)
    assert upscaler.load(path) is first
    write_esrgan(path, seed=9)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert upscaler.load(path) is not first


def test_unknown_architecture_is_refused_with_the_file_name(tmp_path):
    path = tmp_path / "mystery.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, str(path))
    with pytest.raises(UnsupportedModel, match="mystery.safetensors: not a supported upscaler model"):
        NetworkUpscaler(FP32_CPU).load(path)


def test_weights_that_do_not_fit_the_detected_architecture_are_refused(tmp_path):
    path = write_esrgan(tmp_path / "narrow.pth", growth=4)  # real ESRGAN files always grow by 32 channels
    with pytest.raises(UnsupportedModel, match="narrow.pth: not a supported upscaler model"):
        NetworkUpscaler(FP32_CPU).load(path)


@pytest.mark.slow
def test_2048px_upscale_runs_in_bounded_tiles_and_memory(tmp_path):
    """2048×2048 → 4096×4096 with 256 px tiles and 8 px overlap.

    Bounds checked: no network input is larger than (256 + 2·8)² pixels, and resident memory grows by less
    than 400 MB: the 50 MB result (+ its PIL copy) plus one tile's activations (≈ 250 MB measured). An RRDB
    block keeps ≈ 260 feature channels alive, so 512 px tiles already grow memory by ≈ 570 MB (measured) and
    an untiled run by several GB: this bound fails if tiling is lost.
    """
    psutil = pytest.importorskip("psutil")
    path = write_esrgan(tmp_path / "2x-tiny.pth", scale=2, features=1)
    upscaler = NetworkUpscaler(FP32_CPU)
    net = upscaler.load(path).module
    sizes = []
    hook = net.register_forward_pre_hook(lambda _m, args: sizes.append(tuple(args[0].shape[-2:])))
    image = _noise(2048, 2048)
    process = psutil.Process()
    baseline, peak, done = process.memory_info().rss, [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = upscaler.upscale(image, path, tile=256, overlap=8)
    finally:
        done.set()
        sampler.join()
        hook.remove()
    assert result.size == (4096, 4096)
    assert len(sizes) == 64 and max(h * w for h, w in sizes) <= (256 + 16) ** 2
    assert peak[0] - baseline < 400 * 2**20, f"RSS grew by {(peak[0] - baseline) / 2**20:.0f} MB"
