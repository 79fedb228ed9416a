"""Acceptance 2 and case 11: pickles whose unpickling would create a marker file are refused by every loading path
(checkpoint, VAE, embedding, LoRA, merger; the upscaler path is in test_malicious_upscaler.py), the marker never
appears, and the server goes on generating with its good model. A benign pickle works through the isolated
converter and gives the same image as its safetensors twin."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from modules import bootstrap
from modules.core.errors import UnsupportedModel
from modules.core.params import Txt2ImgRequest
from modules.interfaces import cli
from tests.conftest import REPO, install_checkpoint
from tests.support.tiny_addons import build_embedding
from tests.support.tiny_models import _CreatesFile, build_malicious_ckpt


def _evil(dest, marker):
    """A pickle that holds tensors and, next to them, a call that creates `marker` when unpickled."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"string_to_param": {"*": torch.zeros(2, 768)}, "payload": _CreatesFile(marker)}, dest)
    return dest


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny_checkpoint):
    root = tmp_path_factory.mktemp("pickles")
    data_dir, marker = root / "data", root / "PWNED"
    models = data_dir / "models"
    install_checkpoint(tiny_checkpoint("sd15"), models / "Stable-diffusion", "good.safetensors")
    build_malicious_ckpt(models / "Stable-diffusion" / "evil.ckpt", marker)
    _evil(models / "VAE" / "evil-vae.pt", marker)
    _evil(models / "Lora" / "evillora.pt", marker)
    _evil(data_dir / "embeddings" / "evilemb.pt", marker)
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    ctx.models.select_checkpoint("good")
    return ctx, marker, data_dir


def _generate(ctx, prompt: str = "a red cube", **overrides):
    return ctx.generation.txt2img(Txt2ImgRequest(prompt=prompt, steps=2, width=64, height=64, seed=5,
                                                 sampler_name="Euler", save_images=False, **overrides))


def test_malicious_checkpoint_is_refused_and_the_good_one_stays(world):
    """Case 11: selecting the pickle checkpoint fails with the file named; the marker never appears."""
    ctx, marker, _ = world
    with pytest.raises(UnsupportedModel, match="evil.ckpt: refused to load"):
        ctx.models.select_checkpoint("evil")
    assert not marker.exists()
    assert ctx.models.loaded.record.path.name == "good.safetensors"
    assert _generate(ctx).images


def test_malicious_vae_is_refused(world):
    """Acceptance 2: a pickle VAE chosen in settings is refused with its name; nothing runs."""
    ctx, marker, _ = world
    with pytest.raises(UnsupportedModel, match="evil-vae.pt"):
        _generate(ctx, override_settings={"sd_vae": "evil-vae.pt"})
    assert not marker.exists()
    assert _generate(ctx).images


def test_malicious_lora_is_skipped_with_a_warning(world):
    """Acceptance 2: ``<lora:evillora:1>`` is skipped with a warning naming why; the image is still made and its
    infotext lists no LoRA."""
    ctx, marker, _ = world
    result = _generate(ctx, "a red cube <lora:evillora:1>")
    assert not marker.exists()
    assert any("evillora" in w and "refused" in w for w in result.warnings), result.warnings
    assert "Lora hashes" not in result.images[0].infotext


def test_malicious_embedding_is_skipped(world):
    """Acceptance 2: an embedding pickle is skipped with a reason; the prompt word stays plain text."""
    ctx, marker, _ = world
    result = _generate(ctx, "evilemb, a red cube")
    assert not marker.exists()
    report = ctx.generation.embedding_report()
    assert "evilemb" in report.skipped and "refused" in report.skipped["evilemb"]
    assert "TI hashes" not in result.images[0].infotext


def test_malicious_merger_input_is_refused(world):
    """Acceptance 2: the Checkpoint Merger reads inputs through the same door."""
    from modules.core.merge import MergeRequest

    ctx, marker, _ = world
    with pytest.raises(UnsupportedModel, match="evil.ckpt"):
        ctx.merger.merge(MergeRequest(primary="good", secondary="evil", multiplier=0.5,
                                      custom_name="merged-evil"))
    assert not marker.exists()


def test_benign_pickles_convert_once_and_match_their_safetensors_twin(tmp_path, tiny_checkpoint, make_context,
                                                                     data_dir):
    """Case 11 (opt-in path): a harmless .ckpt and A1111 .pt embedding go through the isolated converter, the copy
    is kept (a second load does not convert again) and the images equal those from the safetensors files."""
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "twin.safetensors")
    state = load_file(str(folder / "twin.safetensors"))
    torch.save({"state_dict": state, "global_step": 7}, folder / "twinpickle.ckpt")
    build_embedding("sd15", data_dir / "embeddings" / "shiny.pt", fmt="pt")
    ctx = make_context()
    ctx.models.select_checkpoint("twin")
    reference = np.asarray(_generate(ctx, "shiny cube").images[0].image)
    ctx.models.select_checkpoint("twinpickle")
    converted = folder / ".converted"
    [copy] = list(converted.glob("twinpickle.ckpt.*.safetensors"))
    assert np.array_equal(np.asarray(_generate(ctx, "shiny cube").images[0].image), reference)
    assert "shiny" in ctx.generation.embedding_report().loaded
    stamp = copy.stat().st_mtime_ns
    ctx.models.select_checkpoint("twin")
    ctx.models.select_checkpoint("twinpickle")
    assert copy.stat().st_mtime_ns == stamp, "the pickle was converted again"
    assert [p.name for p in ctx.catalog.checkpoints() if ".converted" in str(p.path)] == []
    shutil.rmtree(converted)
