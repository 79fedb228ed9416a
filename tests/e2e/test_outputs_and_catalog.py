"""Saved PNGs carry A1111 infotext that round-trips; the catalog finds files, aliases and new files."""
from __future__ import annotations

import datetime
import hashlib

from PIL import Image

from modules.core.infotext import parse_infotext
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint


def test_saved_png_round_trips_and_model_hash_is_sha256_prefix(tiny_checkpoint, make_context, data_dir):
    path = install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    ctx = make_context()
    request = Txt2ImgRequest(prompt="a blue square, (top left:1.2)", negative_prompt="red", steps=2,
                             sampler_name="DPM++ 2M", scheduler="Automatic", cfg_scale=6.5, width=64, height=72,
                             seed=42, batch_size=2, save_images=True)
    result = ctx.generation.txt2img(request)
    folder = data_dir / "outputs" / "txt2img-images" / datetime.date.today().isoformat()
    assert [p.name for p in sorted(folder.iterdir())] == ["00000-42.png", "00001-43.png"]
    assert [img.path for img in result.images] == sorted(folder.iterdir())
    text = Image.open(folder / "00000-42.png").text["parameters"]
    assert text == result.images[0].infotext
    parsed = parse_infotext(text)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert parsed["Prompt"] == request.prompt and parsed["Negative prompt"] == "red"
    assert parsed["Steps"] == "2" and parsed["Sampler"] == "DPM++ 2M" and parsed["Schedule type"] == "Karras"
    assert parsed["CFG scale"] == "6.5" and parsed["Seed"] == "42" and parsed["Size-1"] == 64
    assert parsed["Size-2"] == 72 and parsed["Model"] == "tiny" and parsed["RNG"] == "CPU"
    assert parsed["Model hash"] == sha[:10]
    assert text.splitlines()[-1].startswith("Steps: 2, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, "
                                            "Seed: 42, Size: 64x72, Model hash: ")
    assert not list(folder.glob("*.tmp*")), "no temporary files may remain"


def test_catalog_aliases_and_refresh(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    path = install_checkpoint(tiny_checkpoint("sd15"), folder / "sub", "one.safetensors")
    ctx = make_context()
    [record] = ctx.catalog.checkpoints()
    assert record.name == "sub/one.safetensors" and record.title == "sub/one.safetensors"
    loaded = ctx.models.select_checkpoint("one")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.record.title == f"sub/one.safetensors [{sha[:10]}]"
    for alias in (sha[:10], sha, "sub_one", f"one [{sha[:10]}]", loaded.record.title):
        assert ctx.catalog.find(alias).path == path
    install_checkpoint(tiny_checkpoint("sd15"), folder, "two.safetensors")
    assert len(ctx.catalog.checkpoints()) == 1
    assert [r.name for r in ctx.catalog.refresh()] == ["sub/one.safetensors", "two.safetensors"]
    assert ctx.catalog.refresh()[0].sha256 == sha, "the hash is cached by path, size and mtime"


def test_ckpt_dir_flag_adds_a_folder(tiny_checkpoint, make_context, tmp_path):
    extra = tmp_path / "elsewhere"
    install_checkpoint(tiny_checkpoint("sd15"), extra, "far.safetensors")
    ctx = make_context("--ckpt-dir", str(extra))
    assert [r.name for r in ctx.catalog.checkpoints()] == ["far.safetensors"]
    assert ctx.generation.txt2img(Txt2ImgRequest(steps=1, width=64, height=64, save_images=False)).images


def test_ckpt_flag_loads_that_checkpoint_at_start(tiny_checkpoint, make_context, tmp_path, data_dir):
    from modules import bootstrap
    from modules.interfaces import cli
    from tests.conftest import REPO

    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "first.safetensors")
    chosen = install_checkpoint(tiny_checkpoint("sd15"), tmp_path / "other", "chosen.safetensors")
    ctx = make_context("--ckpt", str(chosen))
    options = cli.parse(["--ckpt", str(chosen)], {}, install_dir=REPO)
    bootstrap.load_initial_model(ctx, options).join(120)
    assert ctx.models.loaded is not None and ctx.models.loaded.record.path == chosen


def test_without_any_checkpoint_the_error_says_where_to_put_one(make_context, data_dir):
    import pytest

    from modules.core.errors import NoModelLoaded

    ctx = make_context()
    with pytest.raises(NoModelLoaded, match="models/Stable-diffusion"):
        ctx.generation.txt2img(Txt2ImgRequest(steps=1, width=64, height=64))
