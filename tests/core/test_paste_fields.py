"""Infotext -> txt2img/img2img control values, setting overrides and the pasted checkpoint (A1111's paste)."""
from __future__ import annotations

import json

import pytest

from modules.core.infotext import format_infotext, order_fields, parse_infotext
from modules.core.infotext_overrides import (CHECKPOINT_CHIP, SettingOverride, overrides_from_chips,
                                             pasted_checkpoint, setting_overrides)
from modules.core.paste_fields import img2img_fields, read_pasted, txt2img_fields, unknown_names
from modules.core.settings import SettingsStore
from modules.core.styles import PromptStyle

A1111_HIRES = (  # v1.10.1 txt2img with hires fix, external VAE, LoRA and embedding (spec §4.7)
    "masterpiece, cozy cabin in snowy woods, (warm light:1.2) <lora:add_detail:0.6>\n"
    "Negative prompt: lowres, blurry, easynegative\n"
    "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, "
    "VAE: vae-ft-mse-840000-ema-pruned.safetensors, Denoising strength: 0.5, Clip skip: 2, Hires upscale: 2, "
    "Hires steps: 10, Hires upscaler: Latent, Lora hashes: \"add_detail: 7c6bad76eb54\", "
    "TI hashes: \"easynegative: c74b4e810b03\", Version: v1.10.1")
A1111_INPAINT = (  # v1.9.3 inpainting, as seen in the wild
    "portrait\nNegative prompt: ugly\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, "
    "Seed: 1535177732, Size: 512x512, Model hash: ec6a1ba636, Model: epicrealism_v10-inpainting, "
    "Denoising strength: 0.7, Conditional mask weight: 1, Mask blur: 8, Masked content: latent noise, "
    "Inpaint area: Only masked, Masked area padding: 64, Version: v1.9.3")


@pytest.fixture
def settings(tmp_path):
    return SettingsStore(tmp_path / "config.json").current()


def _store(tmp_path, **values):
    (tmp_path / "config.json").write_text(json.dumps(values))
    return SettingsStore(tmp_path / "config.json").current()


def test_a1111_hires_infotext_fills_txt2img(settings):
    info = read_pasted(A1111_HIRES, settings)
    values = txt2img_fields(info).values()
    assert values == {
        "prompt": "masterpiece, cozy cabin in snowy woods, (warm light:1.2) <lora:add_detail:0.6>",
        "negative_prompt": "lowres, blurry, easynegative", "steps": 25, "sampler_name": "DPM++ 2M",
        "scheduler": "Karras", "cfg_scale": 7, "seed": 1234567890, "width": 512, "height": 768,
        "subseed_show": False, "enable_hr": True, "denoising_strength": 0.5, "hr_scale": 2,
        "hr_upscaler": "Latent", "hr_second_pass_steps": 10, "hr_resize_x": 0, "hr_resize_y": 0,
        "hr_checkpoint_name": "Use same checkpoint", "hr_sampler_name": "Use same sampler",
        "hr_scheduler": "Use same scheduler", "hr_prompt": "", "hr_negative_prompt": ""}
    chips = [o.chip for o in setting_overrides(info, settings)]
    assert chips == ["Clip skip: 2", "RNG: GPU", "VAE: vae-ft-mse-840000-ema-pruned.safetensors"]


def test_a1111_inpaint_infotext_fills_img2img(settings):
    info = read_pasted(A1111_INPAINT, settings)
    values = img2img_fields(info).values()
    assert values["denoising_strength"] == 0.7 and (values["width"], values["height"]) == (512, 512)
    assert (values["mask_blur"], values["inpainting_fill"], values["inpaint_full_res"],
            values["inpaint_full_res_padding"], values["inpainting_mask_invert"]) == (8, 2, True, 64, 0)
    assert "enable_hr" not in values and "hr_scale" not in values
    # into txt2img the denoising strength alone does not switch hires fix on
    assert txt2img_fields(info).enable_hr is False
    assert [o.setting_key for o in setting_overrides(info, settings)] == ["randn_source"]


def test_defaults_of_absent_inpaint_keys(settings):
    values = img2img_fields(read_pasted("x\nSteps: 5, Sampler: Euler, Seed: 1", settings)).values()
    assert (values["inpainting_fill"], values["inpaint_full_res"], values["inpaint_full_res_padding"]) == (1, False,
                                                                                                           32)
    assert "denoising_strength" not in values and "mask_blur" not in values


@pytest.mark.parametrize("sampler, expected", [
    ("DPM++ 2M Karras", ("DPM++ 2M", "Automatic")),  # Karras is DPM++ 2M's default: Automatic
    ("DPM++ 2M Exponential", ("DPM++ 2M", "Exponential")),
    ("Euler a Automatic", ("Euler a", "Automatic")),
    ("k_euler_a", ("Euler a", "Automatic")),
    ("euler", ("Euler", "Automatic")),
    ("DPM++ SDE Karras", ("DPM++ SDE", "Automatic")),
])
def test_sampler_names_old_and_new(settings, sampler, expected):
    fields = txt2img_fields(read_pasted(f"p\nSteps: 20, Sampler: {sampler}, CFG scale: 7, Seed: 1", settings))
    assert (fields.sampler_name, fields.scheduler) == expected


def test_unknown_sampler_and_schedule_are_reported_not_guessed(settings):
    info = read_pasted("p\nSteps: 20, Sampler: Mystery, Schedule type: Wobbly, CFG scale: 7, Seed: 1", settings)
    fields = txt2img_fields(info)
    assert fields.sampler_name is None and fields.scheduler is None and fields.steps == 20
    assert len(unknown_names(info, fields)) == 2


def test_variation_and_resize_from_are_not_crossed(settings):
    text = ("p\nSteps: 20, Sampler: Euler, CFG scale: 6.5, Seed: 5, Size: 512x768, Variation seed: 77, "
            "Variation seed strength: 0.25, Seed resize from: 640x384")
    values = txt2img_fields(read_pasted(text, settings)).values()
    assert values["subseed_show"] is True and values["cfg_scale"] == 6.5
    assert (values["subseed"], values["subseed_strength"]) == (77, 0.25)
    assert (values["seed_resize_from_w"], values["seed_resize_from_h"]) == (640, 384)


def test_hires_resize_sampler_and_prompts(settings):
    text = ("p\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512, Denoising strength: 0.45, "
            "Hires prompt: \"sharp, detailed\", Hires resize: 1024x768, Hires upscaler: R-ESRGAN 4x+, "
            "Hires sampler: Euler a, Hires schedule type: Karras")
    values = txt2img_fields(read_pasted(text, settings)).values()
    assert values["enable_hr"] is True and values["hr_second_pass_steps"] == 0
    assert (values["hr_resize_x"], values["hr_resize_y"]) == (1024, 768)
    assert (values["hr_sampler_name"], values["hr_scheduler"]) == ("Euler a", "Karras")
    assert (values["hr_prompt"], values["hr_upscaler"]) == ("sharp, detailed", "R-ESRGAN 4x+")
    assert "hr_scale" not in values


def test_legacy_first_pass_size(settings):
    text = "p\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 1024x1024, First pass size: 0x0, " \
           "Denoising strength: 0.6"
    values = txt2img_fields(read_pasted(text, settings)).values()
    assert (values["width"], values["height"], values["hr_resize_x"], values["hr_resize_y"]) == (512, 512, 1024,
                                                                                                   1024)
    assert values["enable_hr"] is True


def test_empty_prompt_crlf_and_multiline(settings):
    assert txt2img_fields(read_pasted("Steps: 3, Sampler: Euler, Seed: 9", settings)).prompt == ""
    text = "line one\r\nline two\r\nNegative prompt: bad\r\nworse\r\nSteps: 3, Sampler: Euler, Seed: 9"
    fields = txt2img_fields(read_pasted(text, settings))
    assert (fields.prompt, fields.negative_prompt, fields.seed) == ("line one\nline two", "bad\nworse", 9)


def test_plain_text_is_only_a_prompt(settings):
    fields = txt2img_fields(read_pasted("just a prompt, no: parameters", settings))
    assert fields.prompt == "just a prompt, no: parameters" and fields.steps is None and fields.seed is None
    assert txt2img_fields(read_pasted("", settings)).prompt == ""


def test_bad_numbers_are_left_out(settings):
    text = "p\nSteps: many, Sampler: Euler, CFG scale: nan, Seed: 1.5, Size: 64x64, Clip skip: 40"
    values = txt2img_fields(read_pasted(text, settings)).values()
    assert "steps" not in values and "cfg_scale" not in values and "seed" not in values
    assert values["width"] == 64
    assert setting_overrides(read_pasted(text, settings), settings) == (
        SettingOverride("RNG", "randn_source", "GPU"),)  # Clip skip 40 is out of range


def test_styles_found_in_the_prompt(tmp_path):
    styles = [PromptStyle("Grain", "film grain", "blurry")]
    text = "a fox, film grain\nNegative prompt: ugly, blurry\nSteps: 3, Sampler: Euler, Seed: 9"
    fields = txt2img_fields(read_pasted(text, _store(tmp_path), styles))
    assert (fields.prompt, fields.negative_prompt, fields.styles) == ("a fox", "ugly", ("Grain",))
    hires = text.replace("Seed: 9", 'Seed: 9, Hires prompt: "a wolf, film grain"')
    fields = txt2img_fields(read_pasted(hires, _store(tmp_path), styles))
    assert (fields.prompt, fields.hr_prompt, fields.styles) == ("a fox", "a wolf", ("Grain",))
    ignored = txt2img_fields(read_pasted(text, _store(tmp_path, infotext_styles="Ignore"), styles))
    assert ignored.prompt == "a fox, film grain" and ignored.styles is None


def test_skip_pasting_setting(tmp_path):
    settings = _store(tmp_path, infotext_skip_pasting=["Seed", "Clip skip"])
    info = read_pasted("p\nSteps: 3, Sampler: Euler, Seed: 9, Clip skip: 2", settings)
    assert txt2img_fields(info).seed is None and setting_overrides(info, settings)[0].infotext_key == "RNG"


def test_overrides_skip_current_values_and_cast_types(tmp_path):
    settings = _store(tmp_path, CLIP_stop_at_last_layers=2, randn_source="GPU")
    text = ("p\nSteps: 3, Sampler: Euler a, Seed: 9, Clip skip: 2, ENSD: 31337, Eta: 0.67, "
            "SGM noise multiplier: True, Schedule rho: 5, Emphasis: No norm, Pad conds: True")
    found = setting_overrides(read_pasted(text, settings), settings)
    assert [(o.setting_key, o.value) for o in found] == [
        ("emphasis", "No norm"), ("eta_noise_seed_delta", 31337), ("eta_ancestral", 0.67), ("rho", 5.0),
        ("sgm_noise_multiplier", True), ("pad_cond_uncond", True)]
    # Clip skip is missing from this infotext: A1111 reads it as 1, which differs from the current 2
    assert [o.chip for o in setting_overrides(read_pasted("p\nSteps: 3, Sampler: Euler, Seed: 9", settings),
                                              settings)] == ["Clip skip: 1"]


def test_chips_back_to_override_settings(settings):
    chips = ["Clip skip: 2", "ENSD: 31337", "SGM noise multiplier: True", "Eta: 0.5",
             f"{CHECKPOINT_CHIP}: tiny.safetensors [0123456789]", "Bogus: 1", "Clip skip: x", "RNG: Quantum"]
    assert overrides_from_chips(chips, settings) == {
        "CLIP_stop_at_last_layers": 2, "eta_noise_seed_delta": 31337, "sgm_noise_multiplier": True,
        "eta_ancestral": 0.5, "sd_model_checkpoint": "tiny.safetensors [0123456789]"}
    assert overrides_from_chips(None, settings) == {}
    assert settings.with_overrides(overrides_from_chips(["Clip skip: 3"], settings)).get(
        "CLIP_stop_at_last_layers") == 3


def test_checkpoint_only_when_the_setting_allows(tmp_path):
    info = parse_infotext(A1111_HIRES)
    assert pasted_checkpoint(info, _store(tmp_path)) is None  # disable_weights_auto_swap defaults to on
    allowed = _store(tmp_path, disable_weights_auto_swap=False)
    assert pasted_checkpoint(info, allowed) == ("6ce0161689", "v1-5-pruned-emaonly")
    assert pasted_checkpoint(parse_infotext("p\nSteps: 3, Sampler: Euler, Seed: 9"), allowed) is None


def test_round_trip_through_our_writer(settings):
    """What our generation writes comes back as the same control values."""
    fixed = {"Steps": 30, "Sampler": "Euler a", "Schedule type": "Automatic", "CFG scale": 6.5, "Seed": 42,
             "Size": "576x320", "Model hash": "0123456789", "Model": "tiny", "Variation seed": 7,
             "Variation seed strength": 0.3, "Seed resize from": "512x512", "Denoising strength": 0.55,
             "Clip skip": 2, "RNG": "CPU"}
    extra = [("Hires upscale", 1.5), ("Hires steps", 4), ("Hires upscaler", "Latent (bicubic)"),
             ("Lora hashes", "detail: 0123456789ab")]
    text = format_infotext("a <lora:detail:0.8> cat, (soft:1.1)", "dog, \"quoted\"",
                           order_fields(fixed, extra, "ourapp-0.1.0"))
    info = read_pasted(text, settings)
    values = txt2img_fields(info).values()
    assert values["prompt"] == "a <lora:detail:0.8> cat, (soft:1.1)" and values["negative_prompt"] == 'dog, "quoted"'
    assert (values["steps"], values["sampler_name"], values["scheduler"], values["cfg_scale"], values["seed"]) == (
        30, "Euler a", "Automatic", 6.5, 42)
    assert (values["width"], values["height"], values["subseed"], values["subseed_strength"]) == (576, 320, 7, 0.3)
    assert (values["seed_resize_from_w"], values["seed_resize_from_h"]) == (512, 512)
    assert (values["enable_hr"], values["hr_scale"], values["hr_second_pass_steps"], values["denoising_strength"],
            values["hr_upscaler"]) == (True, 1.5, 4, 0.55, "Latent (bicubic)")
    assert [o.chip for o in setting_overrides(info, settings)] == ["Clip skip: 2"]
