"""Checkpoints that share a VAE and text encoder hold them once; LoRAs and embeddings never leak across them."""
from __future__ import annotations

import numpy as np
from safetensors.torch import load_file, save_file

from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint
from tests.support.tiny_addons import build_embedding, build_kohya_lora


def _image(ctx, checkpoint: str, prompt: str = "a cat") -> np.ndarray:
    request = Txt2ImgRequest(prompt=prompt, steps=2, width=64, height=64, seed=9, sampler_name="Euler",
                             save_images=False, checkpoint=checkpoint)
    return np.asarray(ctx.generation.txt2img(request).images[0].image)


def _fine_tune(source, dest):
    """``source`` with another UNet (every UNet tensor nudged) and the same VAE and text encoder."""
    tensors = load_file(str(source))
    for key in [k for k in tensors if k.startswith("model.diffusion_model.") and tensors[k].is_floating_point()]:
        tensors[key] = tensors[key] * 1.01
    save_file(tensors, str(dest))
    return dest


def test_identical_components_are_held_once_and_stay_exact(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    base = install_checkpoint(tiny_checkpoint("sd15"), folder, "a.safetensors")
    _fine_tune(base, folder / "b.safetensors")
    install_checkpoint(tiny_checkpoint("sd2-v"), folder, "c.safetensors")
    build_kohya_lora("sd15", data_dir / "models" / "Lora" / "detail.safetensors", seed=1)
    build_embedding("sd15", data_dir / "embeddings" / "shiny.safetensors", seed=2)
    ctx = make_context()
    ctx.settings.update({"sd_checkpoints_limit": 3})

    b_plain = _image(ctx, "b")
    a_lora = _image(ctx, "a", "a shiny cat <lora:detail:1>")
    assert np.array_equal(_image(ctx, "b"), b_plain), "a's LoRA and embedding must not leak into b"
    _image(ctx, "c")
    pipes = {c.record.stem: c.handle.pipe for c in ctx.models.cached()}
    assert pipes["a"].vae is pipes["b"].vae and pipes["a"].text_encoder is pipes["b"].text_encoder
    assert pipes["a"].unet is not pipes["b"].unet
    assert pipes["c"].vae is not pipes["a"].vae and pipes["c"].text_encoder is not pipes["a"].text_encoder
    assert np.array_equal(_image(ctx, "a", "a shiny cat <lora:detail:1>"), a_lora)
    assert not np.array_equal(_image(ctx, "a"), a_lora)
