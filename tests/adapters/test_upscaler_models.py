"""Upscaler model files: ESRGAN layouts, safe reading, caching and tiled inference on tiny random networks."""
from __future__ import annotations

import importlib
import os
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from modules.adapters.devices import DevicePolicy
from modules.adapters.esrgan_arch import build_rrdbnet
from modules.adapters.upscaler_models import NetworkUpscaler, Tiling, describe, run_tiled
from modules.core.errors import UnsupportedModel
from tests.support.tiny_upscalers import esrgan_state_dict, write_esrgan

FP32_CPU = DevicePolicy(force_cpu=True, precision="full")


def _noise(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def _to_tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(pixels)).permute(2, 0, 1).unsqueeze(0).float() / 255


@pytest.mark.parametrize("scale", [4, 8])
def test_original_and_real_esrgan_layouts_build_the_same_network(scale):
    old = build_rrdbnet(esrgan_state_dict(scale=scale, layout="old", growth=4))
    new = build_rrdbnet(esrgan_state_dict(scale=scale, layout="new", growth=4))
    x = torch.rand(1, 3, 8, 12)
    with torch.inference_mode():
        assert old.scale == new.scale == scale
        assert torch.equal(old(x), new(x)) and old(x).shape == (1, 3, 8 * scale, 12 * scale)


@pytest.mark.parametrize("scale, layout, multiple", [(1, "old", 1), (2, "old", 1), (2, "new", 2), (1, "new", 4)])
def test_x2_and_x1_models_of_both_layouts(scale, layout, multiple):
    loaded = describe(esrgan_state_dict(scale=scale, layout=layout, growth=4), "m.pth")
    assert (loaded.scale, loaded.multiple, loaded.architecture) == (scale, multiple, "ESRGAN")
    with torch.inference_mode():
        assert loaded.module(torch.rand(1, 3, 8, 12)).shape == (1, 3, 8 * scale, 12 * scale)


def test_odd_sized_image_through_a_pixel_unshuffle_model_keeps_its_exact_scaled_size(tmp_path):
    path = write_esrgan(tmp_path / "RealESRGAN_x2plus.pth", scale=2, layout="new", growth=4)
    result = NetworkUpscaler(FP32_CPU).upscale(_noise(21, 13), path, tile=8, overlap=3)
    assert result.size == (42, 26)


def test_spandrel_detects_the_tiny_file_as_esrgan_and_agrees_with_ours():
    try:
        spandrel = importlib.import_module("spandrel")
    except ImportError:
        pytest.skip("spandrel (optional) is not importable here")
    state = esrgan_state_dict()  # growth 32, as every real ESRGAN file
    descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    assert descriptor.architecture.name == "ESRGAN" and descriptor.scale == 4
    x = torch.rand(1, 3, 16, 16)
    with torch.inference_mode():
        assert torch.allclose(descriptor.model.eval()(x), build_rrdbnet(state)(x), atol=1e-6)


def test_tiles_with_enough_overlap_equal_the_untiled_result_and_without_it_seams_show():
    net = build_rrdbnet(esrgan_state_dict(seed=3, growth=4))
    pixels = np.asarray(_noise(56, 40))
    with torch.inference_mode():
        whole = run_tiled(net, pixels, scale=4, tiling=Tiling(0, 0), to_tensor=_to_tensor).astype(int)
        # one RRDB block: 17 convolutions at input scale + 4 after upsampling < 24 pixels of context
        tiled = run_tiled(net, pixels, scale=4, tiling=Tiling(16, 24), to_tensor=_to_tensor).astype(int)
        seamed = run_tiled(net, pixels, scale=4, tiling=Tiling(16, 0), to_tensor=_to_tensor).astype(int)
    assert whole.shape == (160, 224, 3) and whole.std() > 1
    assert np.abs(whole - tiled).max() <= 1, "only float rounding may differ"
    assert np.abs(whole - seamed).max() > 8


def test_files_load_from_pth_safetensors_and_real_esrgan_wrapper(tmp_path):
    upscaler = NetworkUpscaler(FP32_CPU)
    image = _noise(12, 10)
    pth = write_esrgan(tmp_path / "a.pth", seed=1)
    st = write_esrgan(tmp_path / "a.safetensors", seed=1)
    wrapped = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": esrgan_state_dict(seed=1, layout="new")}, wrapped)
    results = [np.asarray(upscaler.upscale(image, p, tile=0, overlap=0)) for p in (pth, st, wrapped)]
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
    from safetensors.torch import save_file

    path = tmp_path / "mystery.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, str(path))
    with pytest.raises(UnsupportedModel, match="mystery.safetensors"):
        NetworkUpscaler(FP32_CPU).load(path)


@pytest.mark.slow
def test_2048px_upscale_runs_in_bounded_tiles_and_memory(tmp_path):
    """2048×2048 → 4096×4096 with 512 px tiles and 8 px overlap.

    Bounds checked: no network input is larger than (512 + 2·8)² pixels, and resident memory grows by less
    than 400 MB: the 50 MB result (+ its PIL copy) plus small tiles (≈ 230 MB measured). An untiled run of the
    same network grows memory by ≈ 1.4 GB, so this bound fails if tiling is lost.
    """
    psutil = pytest.importorskip("psutil")
    path = write_esrgan(tmp_path / "2x-tiny.pth", scale=2, features=1, growth=1)
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
        result = upscaler.upscale(image, path, tile=512, overlap=8)
    finally:
        done.set()
        sampler.join()
        hook.remove()
    assert result.size == (4096, 4096)
    assert len(sizes) == 16 and max(h * w for h, w in sizes) <= (512 + 16) ** 2
    assert peak[0] - baseline < 400 * 2**20, f"RSS grew by {(peak[0] - baseline) / 2**20:.0f} MB"
