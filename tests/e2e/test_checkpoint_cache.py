"""Checkpoint cache: switching back is instant and exact; the cache respects sd_checkpoints_limit; no leaks."""
from __future__ import annotations

import gc
import resource

import numpy as np

from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint


def _image(ctx, checkpoint: str) -> np.ndarray:
    request = Txt2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=9, sampler_name="Euler",
                             save_images=False, checkpoint=checkpoint)
    return np.asarray(ctx.generation.txt2img(request).images[0].image)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def test_switch_back_is_cached_and_bit_identical(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    install_checkpoint(tiny_checkpoint("sdxl"), folder, "b.safetensors")
    ctx = make_context()
    ctx.settings.update({"sd_checkpoints_limit": 2})
    first = _image(ctx, "a")
    _image(ctx, "b")
    a_loaded = next(c for c in ctx.models.cached() if c.record.stem == "a")
    again = _image(ctx, "a")
    assert ctx.models.loaded is a_loaded, "switching back must reuse the cached model"
    assert ctx.models.last_switch_seconds < 0.5
    assert np.array_equal(first, again)
    assert [c.record.stem for c in ctx.models.cached()] == ["b", "a"]


def test_limit_one_evicts_and_reloads_exactly(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    install_checkpoint(tiny_checkpoint("sd2-v"), folder, "b.safetensors")
    ctx = make_context()
    first = _image(ctx, "a")
    _image(ctx, "b")
    assert [c.record.stem for c in ctx.models.cached()] == ["b"]
    assert np.array_equal(first, _image(ctx, "a"))


def test_twenty_cached_switches_do_not_grow_memory(tiny_checkpoint, make_context, data_dir, capsys):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    install_checkpoint(tiny_checkpoint("sdxl"), folder, "b.safetensors")
    ctx = make_context()
    ctx.settings.update({"sd_checkpoints_limit": 2})
    for name in ("a", "b"):
        ctx.models.select_checkpoint(name)
    gc.collect()
    baseline = _rss_mb()
    for _ in range(10):
        for name in ("a", "b"):
            ctx.models.select_checkpoint(name)
    gc.collect()
    after = _rss_mb()
    with capsys.disabled():
        print(f"\nRSS after first round {baseline:.0f} MB, after 20 more switches {after:.0f} MB")
    assert after <= baseline * 1.10


def test_low_memory_evicts_least_recently_used_but_keeps_the_fallback(tiny_checkpoint, make_context, data_dir,
                                                                      monkeypatch, caplog):
    folder = data_dir / "models" / "Stable-diffusion"
    for name, family in (("a", "sd15"), ("b", "sd2-v"), ("c", "sd15")):
        install_checkpoint(tiny_checkpoint(family), folder, f"{name}.safetensors")
    ctx = make_context()
    ctx.settings.update({"sd_checkpoints_limit": 3})
    backend = ctx.models._backend
    record = ctx.models._catalog.find("a")
    assert 0 < backend.memory_needed(record) <= record.path.stat().st_size * 2
    for name in ("a", "b"):
        ctx.models.select_checkpoint(name)
    assert [c.record.stem for c in ctx.models.cached()] == ["a", "b"]
    monkeypatch.setattr(backend, "memory_available", lambda: 0)  # RAM is short: only the count limit allows 3
    with caplog.at_level("INFO"):
        ctx.models.select_checkpoint("c")
    assert [c.record.stem for c in ctx.models.cached()] == ["b", "c"], "a (LRU) goes, b stays as the fallback"
    assert any("to make room for c" in r.getMessage() for r in caplog.records)
