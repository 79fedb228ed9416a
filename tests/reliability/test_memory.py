"""Case 25: alternating checkpoints (with one generation each), VAE changes and LoRAs on and off do not keep old
models alive or grow RSS beyond a stated tolerance. Tiny models make an RSS signal small, so the stronger check is
that every unloaded pipeline is garbage collected (a kept reference is exactly the A1111 leak of #5550)."""
from __future__ import annotations

import gc
import weakref

import psutil

from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint
from tests.support.tiny_addons import build_kohya_lora

ROUNDS = 12
RSS_TOLERANCE_MB = 60  # tiny models are ~10 MB each: a leak of one pipeline per round would add >= 120 MB


def _generate(ctx, prompt: str = "a red cube", **overrides) -> None:
    ctx.generation.txt2img(Txt2ImgRequest(prompt=prompt, steps=1, width=64, height=64, seed=2,
                                          sampler_name="Euler", save_images=False, **overrides))


def test_switching_models_vaes_and_loras_frees_what_it_unloads(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "one.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, "two.safetensors")
    build_kohya_lora("sd15", data_dir / "models" / "Lora" / "detail.safetensors", seed=1)
    from safetensors.torch import load_file, save_file

    state = load_file(str(tiny_checkpoint("sd15")))
    vae = {k.removeprefix("first_stage_model."): v for k, v in state.items() if k.startswith("first_stage_model.")}
    (data_dir / "models" / "VAE").mkdir(parents=True)
    save_file(vae, str(data_dir / "models" / "VAE" / "plain.safetensors"))
    ctx = make_context()
    ctx.settings.update({"sd_checkpoints_limit": 1})
    process = psutil.Process()
    pipelines: list[weakref.ref] = []

    def round_trip(index: int) -> None:
        name = ("one", "two")[index % 2]
        ctx.models.select_checkpoint(name)
        pipelines.append(weakref.ref(ctx.models.loaded.handle.pipe))
        _generate(ctx, "a red cube <lora:detail:0.8>" if index % 3 == 0 else "a red cube",
                  override_settings={"sd_vae": "plain.safetensors" if index % 2 else "None"})

    for index in range(4):  # warm-up: allocator pools, first loads, caches
        round_trip(index)
    gc.collect()
    warm = process.memory_info().rss
    for index in range(4, 4 + ROUNDS):
        round_trip(index)
    gc.collect()
    grown_mb = (process.memory_info().rss - warm) / 2**20
    alive = [ref for ref in pipelines[:-1] if ref() is not None]
    print(f"RSS after warm-up {warm / 2**20:.0f} MB, after {ROUNDS} more switches {grown_mb:+.1f} MB; "
          f"pipelines still alive: {len(alive)} of {len(pipelines) - 1} unloaded")
    assert not alive, "an unloaded checkpoint's pipeline is still referenced"
    assert grown_mb < RSS_TOLERANCE_MB
