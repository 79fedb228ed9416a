"""Reading a saved image's parameters back (PNG Info / paste) reproduces it through the real diffusers backend,
including the settings that come back as override chips (Clip skip, RNG) and the hires fix fields."""
from __future__ import annotations

import dataclasses

import numpy as np

from modules.core.infotext_overrides import overrides_from_chips, pasted_checkpoint, setting_overrides
from modules.core.params import Txt2ImgRequest
from modules.core.paste_fields import read_pasted, txt2img_fields
from modules.core.png_info import read_image_info
from tests.conftest import install_checkpoint

REQUEST_FIELDS = {f.name for f in dataclasses.fields(Txt2ImgRequest)}


def _request_from(values: dict, chips: list[str], settings) -> Txt2ImgRequest:
    """What the txt2img tab would send after pasting: the pasted controls, "Use same …" meaning None."""
    fields = {k: (None if isinstance(v, str) and v.startswith("Use same") else v)
              for k, v in values.items() if k in REQUEST_FIELDS}
    return Txt2ImgRequest(**fields, override_settings=overrides_from_chips(chips, settings), save_images=False)


def test_pasted_parameters_reproduce_the_image(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    ctx = make_context()
    original = ctx.generation.txt2img(Txt2ImgRequest(
        prompt="a (red:1.2) circle", negative_prompt="blurry", steps=3, sampler_name="DPM++ 2M",
        scheduler="Karras", cfg_scale=6.5, width=64, height=72, seed=1234, subseed=99, subseed_strength=0.3,
        enable_hr=True, hr_scale=1.5, hr_second_pass_steps=2, denoising_strength=0.45,
        override_settings={"CLIP_stop_at_last_layers": 2, "randn_source": "GPU"}))
    saved = original.images[0]
    assert saved.path is not None and saved.path.suffix == ".png"

    text, _ = read_image_info(saved.path)
    assert text == saved.infotext and "Clip skip: 2" in text
    settings = ctx.settings.current()
    info = read_pasted(text, settings, ctx.styles.styles())
    chips = [o.chip for o in setting_overrides(info, settings)]
    # RNG: GPU is not written, and GPU is what A1111 reads when RNG is absent; ours defaults to CPU, hence the chip
    assert chips == ["Clip skip: 2", "RNG: GPU"]
    values = txt2img_fields(info).values()
    assert values["enable_hr"] is True and (values["width"], values["height"]) == (64, 72)
    again = ctx.generation.txt2img(_request_from(values, chips, settings))
    assert again.images[0].infotext == saved.infotext
    assert np.array_equal(np.asarray(again.images[0].image), np.asarray(saved.image))
    without_chips = ctx.generation.txt2img(_request_from(values, ["RNG: GPU"], settings))
    assert not np.array_equal(np.asarray(without_chips.images[0].image), np.asarray(saved.image))


def test_pasted_checkpoint_is_used_for_the_job_only(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, "beta.safetensors")
    ctx = make_context()
    ctx.models.select_checkpoint("alpha")
    made = ctx.generation.txt2img(Txt2ImgRequest(prompt="x", steps=2, sampler_name="Euler", cfg_scale=7, width=64,
                                                 height=64, seed=3, checkpoint="beta", save_images=False))
    text = made.images[0].infotext
    assert "Model: beta" in text
    settings = ctx.settings.update({"disable_weights_auto_swap": False})
    info = read_pasted(text, settings)
    model_hash, model = pasted_checkpoint(info, settings)
    record = ctx.catalog.find(model)  # by name: the two copies share their hash
    assert record.name == "beta.safetensors" and record.short_hash == model_hash
    chips = [f"Checkpoint: {record.title}"]
    again = ctx.generation.txt2img(_request_from(txt2img_fields(info).values(), chips, settings))
    assert again.model_name.startswith("beta") and again.images[0].infotext == text
    assert ctx.settings.current().get("sd_model_checkpoint").startswith("alpha")  # the selection is unchanged
