"""LoRAs from prompt tags: exact removal, independent weights, hashes in infotext, mismatches reported."""
from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint
from tests.support.tiny_addons import build_kohya_lora, build_mismatched_lora


def _run(ctx, prompt: str):
    result = ctx.generation.txt2img(Txt2ImgRequest(prompt=prompt, steps=2, width=64, height=64, seed=4,
                                                   sampler_name="Euler", save_images=False))
    return np.asarray(result.images[0].image), result


@pytest.fixture
def lora_ctx(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    loras = data_dir / "models" / "Lora"
    build_kohya_lora("sd15", loras / "detail.safetensors", seed=1, metadata={"ss_output_name": "detail_alias"})
    build_kohya_lora("sd15", loras / "style.safetensors", seed=2)
    build_mismatched_lora(loras / "xl_only.safetensors")
    return make_context()


def test_lora_changes_image_and_removal_is_exact(lora_ctx, data_dir):
    from modules.core.addon_catalog import AddonKind

    baseline, _ = _run(lora_ctx, "a cat")
    with_lora, result = _run(lora_ctx, "a cat <lora:detail:1>")
    assert not np.array_equal(baseline, with_lora)
    record = lora_ctx.addons.find_lora("detail")
    digest = lora_ctx.addons.short_hash(record)
    assert f'Lora hashes: "detail: {digest}"' in result.images[0].infotext
    assert result.images[0].infotext.startswith("a cat <lora:detail:1>\nSteps:"), "the tag stays in the saved prompt"
    assert record.kind is AddonKind.LORA
    timings = dict(result.timings)
    assert set(timings) == {"model", "VAE", "LoRA", "embeddings", "total"} and 0 < timings["LoRA"] < timings["total"]
    assert np.array_equal(_run(lora_ctx, "a cat")[0], baseline), "removing the LoRA must restore exactly"
    assert np.array_equal(_run(lora_ctx, "a cat <lora:detail:0>")[0], baseline), "weight 0 is no LoRA"
    assert np.array_equal(_run(lora_ctx, "a cat <lora:detail_alias:1>")[0], with_lora), "alias from metadata"


def test_two_loras_with_weights_differ_from_each_alone(lora_ctx):
    both, result = _run(lora_ctx, "a cat <lora:detail:0.5> <lora:style:1.0>")
    alone_a, _ = _run(lora_ctx, "a cat <lora:detail:0.5>")
    alone_b, _ = _run(lora_ctx, "a cat <lora:style:1.0>")
    assert not np.array_equal(both, alone_a) and not np.array_equal(both, alone_b)
    assert "detail: " in result.images[0].infotext and "style: " in result.images[0].infotext
    again, _ = _run(lora_ctx, "a cat <lora:detail:0.5> <lora:style:1.0>")
    assert np.array_equal(both, again)


def test_separate_text_encoder_and_unet_weights(lora_ctx):
    full, _ = _run(lora_ctx, "a cat <lora:detail:1>")
    unet_only, _ = _run(lora_ctx, "a cat <lora:detail:0:1>")
    te_only, _ = _run(lora_ctx, "a cat <lora:detail:te=1:unet=0>")
    baseline, _ = _run(lora_ctx, "a cat")
    assert len({a.tobytes() for a in (full, unet_only, te_only, baseline)}) == 4


def test_mismatched_and_missing_loras_are_reported_and_skipped(lora_ctx):
    """Case 13: a LoRA for another architecture and a missing one: warnings, skipped, infotext lists neither."""
    baseline, _ = _run(lora_ctx, "a cat")
    image, result = _run(lora_ctx, "a cat <lora:xl_only:1> <lora:nowhere:1>")
    assert np.array_equal(image, baseline), "generation continues without the skipped LoRAs"
    assert any("xl_only" in w for w in result.warnings) and any("nowhere" in w for w in result.warnings)
    assert "Lora hashes" not in result.images[0].infotext
    client = TestClient(bootstrap.create_app(lora_ctx, api=True, ui=False))
    body = {"prompt": "a cat <lora:xl_only:1>", "steps": 1, "width": 64, "height": 64}
    info = json.loads(client.post("/sdapi/v1/txt2img", json=body).json()["info"])
    assert any("xl_only" in w for w in info["warnings"])


def test_sdxl_lora_removal_is_exact(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sdxl"), data_dir / "models" / "Stable-diffusion")
    build_kohya_lora("sdxl", data_dir / "models" / "Lora" / "xl.safetensors", seed=3)
    ctx = make_context()
    baseline, _ = _run(ctx, "a cat")
    with_lora, result = _run(ctx, "a cat <lora:xl:1>")
    assert not np.array_equal(baseline, with_lora) and "Lora hashes" in result.images[0].infotext
    assert np.array_equal(_run(ctx, "a cat")[0], baseline)


def test_partly_matching_lora_is_applied_with_a_note(lora_ctx, data_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    loras = data_dir / "models" / "Lora"
    mixed = load_file(str(loras / "detail.safetensors"))
    xl = load_file(str(build_mismatched_lora(tmp_path / "xl.safetensors")))
    extra = {k: v for k, v in xl.items() if k.startswith("lora_te2_")}
    assert extra
    save_file({**mixed, **extra}, str(loras / "mixed.safetensors"))
    lora_ctx.addons.refresh()
    clean, plain = _run(lora_ctx, "a cat <lora:detail:1>")
    assert plain.warnings == ()
    image, result = _run(lora_ctx, "a cat <lora:mixed:1>")
    assert np.array_equal(image, clean), "the matching layers are applied as usual"
    te2_layers = sum(1 for k in extra if k.endswith(".lora_down.weight"))
    assert any(f"{te2_layers} of " in w and "do not match" in w for w in result.warnings), result.warnings
