"""Textual-inversion embeddings: triggered by name, hashed in infotext, wrong widths skipped, folder changes seen."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint
from tests.support.tiny_addons import build_embedding, build_wrong_width_embedding


def _run(ctx, prompt: str, negative: str = ""):
    result = ctx.generation.txt2img(Txt2ImgRequest(prompt=prompt, negative_prompt=negative, steps=2, width=64,
                                                   height=64, seed=4, sampler_name="Euler", save_images=False))
    return np.asarray(result.images[0].image), result.images[0].infotext


@pytest.mark.parametrize("family,fmt", [("sd15", "safetensors"), ("sd15", "pt"), ("sdxl", "safetensors")])
def test_embedding_trigger_changes_the_image_and_is_hashed(family, fmt, tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint(family), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    baseline, text = _run(ctx, "a photo of a cat")
    emb = build_embedding(family, data_dir / "embeddings" / f"shiny.{fmt}", vectors=3, seed=2, fmt=fmt)
    assert np.array_equal(_run(ctx, "a photo of a cat")[0], baseline), "an unused embedding changes nothing"
    with_emb, text = _run(ctx, "a photo of a shiny cat")
    without, _ = _run(ctx, "a photo of a cat cat")
    assert not np.array_equal(with_emb, without)
    sha = hashlib.sha256(emb.read_bytes()).hexdigest()
    assert f'TI hashes: "shiny: {sha[:12]}"' in text
    assert ctx.generation._addons.embeddings.loaded == {"shiny": 3}
    _, negative_text = _run(ctx, "a cat", negative="shiny")
    assert "TI hashes" in negative_text, "the negative prompt counts too"


def test_wrong_width_is_skipped_and_removal_restores(tiny_checkpoint, make_context, data_dir):
    """Case 13: an embedding of the wrong width is skipped with its reason."""
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    baseline, _ = _run(ctx, "a photo of a cat")
    build_wrong_width_embedding(data_dir / "embeddings" / "wide.safetensors")
    emb = build_embedding("sd15", data_dir / "embeddings" / "cat.safetensors")
    image, text = _run(ctx, "a photo of a cat")
    report = ctx.generation._addons.embeddings
    assert "wide" in report.skipped and "width" in report.skipped["wide"] and "cat" in report.loaded
    assert not np.array_equal(image, baseline) and "TI hashes" in text
    emb.unlink()
    restored, text = _run(ctx, "a photo of a cat")
    assert np.array_equal(restored, baseline) and "TI hashes" not in text
