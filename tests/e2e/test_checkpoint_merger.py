"""Checkpoint Merger end to end on tiny real-layout SD1 checkpoints: every tensor against A1111's formulas, the
key rules, metadata, VAE baking, errors that leave no file, and the merged model generating an image."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from modules.core.errors import InvalidRequest, JobCancelled, UnsupportedModel
from modules.core.hashes import old_model_hash
from modules.core.safetensors_header import read_raw_header as read_safetensors_header
from modules.core.merge import MergeRequest
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint
from tests.support.tiny_models import build_checkpoint, build_vae_file

POSITION_IDS = "cond_stage_model.transformer.text_model.embeddings.position_ids"
CONV_IN = "model.diffusion_model.input_blocks.0.0.weight"


@pytest.fixture(scope="session")
def tiny_models(tiny_cache):
    """Three different tiny SD1 checkpoints (same keys, other seeds) built once."""
    folder = tiny_cache / "merger"
    return {name: build_checkpoint("sd15", folder / f"{name}.safetensors", seed=seed)
            if not (folder / f"{name}.safetensors").exists() else folder / f"{name}.safetensors"
            for name, seed in (("a", 11), ("b", 12), ("c", 13))}


@pytest.fixture
def folder(data_dir):
    return data_dir / "models" / "Stable-diffusion"


@pytest.fixture
def ctx(tiny_models, folder, make_context):
    for path in tiny_models.values():
        install_checkpoint(path, folder)
    return make_context()


def _tensors(path):
    return load_file(str(path))


def _merged_ok(key: str, a) -> bool:
    return a.is_floating_point() and key != POSITION_IDS and "model" in key


@pytest.mark.parametrize("half", [False, True])
def test_weighted_sum_is_a_times_one_minus_m_plus_b_times_m(ctx, folder, half):
    result = ctx.merger.merge(MergeRequest("a.safetensors", "b.safetensors", multiplier=0.5, save_as_half=half))
    assert result.path == folder / "0.5(a) + 0.5(b).safetensors"
    a, b, out = _tensors(folder / "a.safetensors"), _tensors(folder / "b.safetensors"), _tensors(result.path)
    assert out.keys() == a.keys() and result.tensors == len(a)
    dtype = torch.float16 if half else torch.float32
    for key, ta in a.items():
        expected = (ta * 0.5 + b[key] * 0.5) if _merged_ok(key, ta) else ta
        expected = expected.to(dtype) if ta.dtype == torch.float32 else expected
        assert out[key].dtype == expected.dtype and torch.equal(out[key], expected), key
    assert torch.equal(out[POSITION_IDS], a[POSITION_IDS]), "non-float position ids are copied from A"
    header = read_safetensors_header(result.path)
    sizes = {"F32": 4, "F16": 2, "I64": 8}
    assert all(v["data_offsets"][0] % sizes[v["dtype"]] == 0 for k, v in header.items() if k != "__metadata__")


def test_add_difference_is_a_plus_b_minus_c_times_m(ctx, folder):
    result = ctx.merger.merge(MergeRequest("a.safetensors", "b.safetensors", "c.safetensors",
                                           interp_method="Add difference", multiplier=0.3))
    assert result.path.name == "a + 0.3(b - c).safetensors"
    a, b, c = (_tensors(folder / f"{n}.safetensors") for n in "abc")
    out = _tensors(result.path)
    for key, ta in a.items():
        expected = ta + (b[key] - c[key]) * 0.3 if _merged_ok(key, ta) else ta
        assert torch.equal(out[key], expected), key


def test_keys_only_in_a_are_kept_and_add_difference_keeps_a_where_c_lacks_a_key(ctx, folder, tiny_models):
    b, c = _tensors(tiny_models["b"]), _tensors(tiny_models["c"])
    gone = "model.diffusion_model.out.2.bias"
    extra = {k: v for k, v in b.items() if k != gone}
    save_file({**extra, "model.diffusion_model.only_in_b": torch.ones(3)}, str(folder / "b2.safetensors"))
    save_file({k: v for k, v in c.items() if k != "model.diffusion_model.out.0.bias"}, str(folder / "c2.safetensors"))
    ctx.catalog.refresh()
    a = _tensors(folder / "a.safetensors")
    out = _tensors(ctx.merger.merge(MergeRequest("a", "b2", multiplier=0.5)).path)
    assert torch.equal(out[gone], a[gone]) and "model.diffusion_model.only_in_b" not in out
    out = _tensors(ctx.merger.merge(MergeRequest("a", "b", "c2", interp_method="Add difference",
                                                 multiplier=0.5)).path)
    assert torch.equal(out["model.diffusion_model.out.0.bias"], a["model.diffusion_model.out.0.bias"])


def test_recipe_metadata_names_every_input_by_hash(ctx, folder):
    save_file(_tensors(folder / "a.safetensors"), str(folder / "meta.safetensors"),
              metadata={"format": "pt", "ss_note": "from A", "sd_merge_recipe": json.dumps({"type": "old"})})
    ctx.catalog.refresh()
    result = ctx.merger.merge(MergeRequest("meta", "b", "c", interp_method="Add difference", multiplier=0.25,
                                           custom_name="mix", discard_weights="", metadata_json='{"author": "me"}'))
    with safe_open(str(result.path), "pt") as handle:
        metadata = handle.metadata()
    sha = {n: hashlib.sha256((folder / f"{n}.safetensors").read_bytes()).hexdigest() for n in ("meta", "b", "c")}
    recipe = json.loads(metadata["sd_merge_recipe"])
    assert recipe == {"type": "webui", "primary_model_hash": sha["meta"], "secondary_model_hash": sha["b"],
                      "tertiary_model_hash": sha["c"], "interp_method": "Add difference", "multiplier": 0.25,
                      "save_as_half": False, "custom_name": "mix", "config_source": 0, "bake_in_vae": "None",
                      "discard_weights": "", "is_inpainting": False, "is_instruct_pix2pix": False}
    models = json.loads(metadata["sd_merge_models"])
    assert models[sha["b"]] == {"name": "b.safetensors", "legacy_hash": old_model_hash(folder / "b.safetensors"),
                                "sd_merge_recipe": None}
    assert models[sha["meta"]]["sd_merge_recipe"] == {"type": "old"}
    assert metadata["ss_note"] == "from A" and metadata["author"] == "me" and metadata["format"] == "pt"
    assert result.record is not None and result.record.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    plain = ctx.merger.merge(MergeRequest("a", "b", custom_name="plain", save_metadata=False))
    with safe_open(str(plain.path), "pt") as handle:
        assert not handle.metadata()


def test_discard_weights_drops_matching_keys(ctx):
    out = _tensors(ctx.merger.merge(MergeRequest("a", "b", discard_weights=r"^first_stage_model\.")).path)
    assert out and not any(k.startswith("first_stage_model.") for k in out)


def test_bake_in_vae_replaces_the_first_stage_model_and_matches_the_external_vae(ctx, folder, data_dir):
    vae = build_vae_file(data_dir / "models" / "VAE" / "better.safetensors", family="sd15", seed=5)
    ctx.addons.refresh()
    half = ctx.merger.merge(MergeRequest("a", interp_method="No interpolation", bake_in_vae="better.safetensors",
                                         save_as_half=True, custom_name="a-vae-fp16"))
    out, vae_tensors, a = _tensors(half.path), _tensors(vae), _tensors(folder / "a.safetensors")
    for key, tensor in vae_tensors.items():
        assert torch.equal(out["first_stage_model." + key], tensor.half()), key
    assert all(out[k].dtype == torch.float16 for k in out if a[k].is_floating_point())
    baked = ctx.merger.merge(MergeRequest("a", interp_method="No interpolation", bake_in_vae="better.safetensors",
                                          custom_name="a-vae"))
    ctx.models.select_checkpoint(baked.path.name)
    with_baked = _image(ctx)
    ctx.models.select_checkpoint("a.safetensors")
    ctx.settings.update({"sd_vae": "better.safetensors"})
    assert np.array_equal(with_baked, _image(ctx)), "a baked-in VAE decodes like the same VAE chosen in SD VAE"


def _image(ctx):
    result = ctx.generation.txt2img(Txt2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=3,
                                                   sampler_name="Euler", save_images=False))
    return np.asarray(result.images[0].image)


def test_inpainting_a_with_normal_b_merges_the_first_four_channels(tiny_checkpoint, folder, make_context,
                                                                 tiny_models):
    install_checkpoint(tiny_checkpoint("sd15-inpaint"), folder, "inp.safetensors")
    install_checkpoint(tiny_models["b"], folder)
    ctx = make_context()
    result = ctx.merger.merge(MergeRequest("inp", "b", multiplier=0.5))
    assert result.path.name == "0.5(inp) + 0.5(b).inpainting.safetensors"
    a, b, out = _tensors(folder / "inp.safetensors"), _tensors(folder / "b.safetensors"), _tensors(result.path)
    assert out[CONV_IN].shape[1] == 9
    assert torch.equal(out[CONV_IN][:, :4], a[CONV_IN][:, :4] * 0.5 + b[CONV_IN] * 0.5)
    assert torch.equal(out[CONV_IN][:, 4:], a[CONV_IN][:, 4:])
    with safe_open(str(result.path), "pt") as handle:
        assert json.loads(handle.metadata()["sd_merge_recipe"])["is_inpainting"] is True
    with pytest.raises(UnsupportedModel, match="A must be the inpainting model"):
        ctx.merger.merge(MergeRequest("b", "inp", custom_name="wrong-way"))
    assert not (folder / "wrong-way.safetensors").exists()


def test_shape_mismatch_is_a_clear_error_and_leaves_no_file(ctx, folder, tiny_models):
    b = _tensors(tiny_models["b"])
    b["model.diffusion_model.out.2.bias"] = torch.zeros(7)
    save_file(b, str(folder / "odd.safetensors"))
    ctx.catalog.refresh()
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(UnsupportedModel, match=r"model.diffusion_model.out.2.bias.*different shapes"):
        ctx.merger.merge(MergeRequest("a", "odd", custom_name="broken"))
    assert sorted(p.name for p in folder.iterdir()) == before


def test_failure_while_writing_leaves_no_partial_file(ctx, folder, monkeypatch):
    from modules.adapters import merge_files

    calls = []

    def failing(step, job, sources, vae):
        calls.append(step.key)
        if len(calls) == 100:
            raise RuntimeError("disk full")
        return original(step, job, sources, vae)

    original = merge_files._tensor
    monkeypatch.setattr(merge_files, "_tensor", failing)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(RuntimeError, match="disk full"):
        ctx.merger.merge(MergeRequest("a", "b", custom_name="half-written"))
    assert sorted(p.name for p in folder.iterdir()) == before


def test_interrupt_stops_the_merge_and_leaves_no_file(ctx, folder, monkeypatch):
    from modules.adapters import merge_files

    original, seen = merge_files._tensor, []

    def interrupting(step, job, sources, vae):
        seen.append(step.key)
        if len(seen) == 10:
            ctx.jobs.interrupt()  # what the Interrupt button and /sdapi/v1/interrupt do
        return original(step, job, sources, vae)

    monkeypatch.setattr(merge_files, "_tensor", interrupting)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(JobCancelled, match="interrupted"):
        ctx.merger.merge(MergeRequest("a", "b", custom_name="stopped"))
    assert len(seen) == 10 and sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("name", ["../escape", "sub/dir", "..", ".hidden", "a\\b", "x:y"])
def test_unsafe_custom_names_are_refused(ctx, folder, name):
    with pytest.raises(InvalidRequest, match="not a plain file name"):
        ctx.merger.merge(MergeRequest("a", "b", custom_name=name))
    assert not (folder.parent / "escape.safetensors").exists()


def test_existing_file_is_not_overwritten_unless_asked(ctx, folder):
    first = ctx.merger.merge(MergeRequest("a", "b", custom_name="same", multiplier=0.2))
    digest = first.path.read_bytes()
    with pytest.raises(InvalidRequest, match="already exists"):
        ctx.merger.merge(MergeRequest("a", "b", custom_name="same", multiplier=0.8))
    assert first.path.read_bytes() == digest
    again = ctx.merger.merge(MergeRequest("a", "b", custom_name="same.safetensors", multiplier=0.8, overwrite=True))
    assert again.path == first.path and again.path.read_bytes() != digest


def test_ckpt_output_and_missing_models_are_refused(ctx):
    with pytest.raises(InvalidRequest, match="safetensors"):
        ctx.merger.merge(MergeRequest("a", "b", checkpoint_format="ckpt"))
    with pytest.raises(InvalidRequest, match="requires a tertiary model"):
        ctx.merger.merge(MergeRequest("a", "b", interp_method="Add difference"))


def test_config_sidecar_is_copied_from_the_chosen_input(ctx, folder):
    (folder / "b.yaml").write_text("model: {}\n")
    result = ctx.merger.merge(MergeRequest("a", "b", custom_name="with-config"))
    assert (folder / "with-config.yaml").read_text() == "model: {}\n" and result.config == folder / "with-config.yaml"
    ctx.merger.merge(MergeRequest("a", "b", custom_name="no-config", config_source=3))
    assert not (folder / "no-config.yaml").exists()


def test_weights_only_ckpt_input_merges_and_a_malicious_one_is_refused(ctx, folder, tiny_checkpoint, tmp_path):
    from tests.support.tiny_models import build_malicious_ckpt

    install_checkpoint(tiny_checkpoint("sd15", "ckpt"), folder, "pickled.ckpt")
    build_malicious_ckpt(folder / "evil.ckpt", tmp_path / "pwned")
    ctx.catalog.refresh()
    out = _tensors(ctx.merger.merge(MergeRequest("pickled", "b", multiplier=0.0, custom_name="from-ckpt")).path)
    source = torch.load(folder / "pickled.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(out[k], v) for k, v in source.items())
    with pytest.raises(UnsupportedModel):
        ctx.merger.merge(MergeRequest("evil", "b", custom_name="evil-mix"))
    assert not (tmp_path / "pwned").exists() and not (folder / "evil-mix.safetensors").exists()


def test_merged_checkpoint_is_listed_loads_and_generates(ctx):
    result = ctx.merger.merge(MergeRequest("a", "b", multiplier=0.5, custom_name="blend"))
    assert "blend.safetensors" in [r.name for r in ctx.catalog.checkpoints()]
    images = []
    for name in ("a.safetensors", "blend.safetensors"):
        ctx.models.select_checkpoint(name)
        generated = ctx.generation.txt2img(Txt2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=3,
                                                          sampler_name="Euler", save_images=False))
        images.append(np.asarray(generated.images[0].image))
        assert f"Model: {name.removesuffix('.safetensors')}" in generated.images[0].infotext
    assert images[0].shape == (64, 64, 3) and not np.array_equal(images[0], images[1])
    assert result.record.short_hash in generated.images[0].infotext


def test_output_goes_to_ckpt_dir_when_given(tiny_models, data_dir, tmp_path, make_context):
    extra = tmp_path / "my-checkpoints"
    for path in tiny_models.values():
        install_checkpoint(path, extra)
    ctx = make_context("--ckpt-dir", str(extra))
    result = ctx.merger.merge(MergeRequest("a", "b", custom_name="here"))
    assert result.path == extra / "here.safetensors" and result.record.name == "here.safetensors"


def test_sdxl_text_encoders_and_unet_merge_like_the_rest(tiny_cache, data_dir, make_context):
    folder = data_dir / "models" / "Stable-diffusion"
    for name, seed in (("xa", 31), ("xb", 32)):
        build_checkpoint("sdxl", folder / f"{name}.safetensors", seed=seed)
    ctx = make_context()
    result = ctx.merger.merge(MergeRequest("xa", "xb", multiplier=0.25))
    a, b, out = _tensors(folder / "xa.safetensors"), _tensors(folder / "xb.safetensors"), _tensors(result.path)
    conditioner = [k for k in a if k.startswith("conditioner.") and a[k].is_floating_point()]
    assert conditioner and all(torch.equal(out[k], a[k] * 0.75 + b[k] * 0.25) for k in conditioner)
    for key, ta in a.items():
        expected = ta * 0.75 + b[key] * 0.25 if _merged_ok(key, ta) else ta
        assert torch.equal(out[key], expected), key
