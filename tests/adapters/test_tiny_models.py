"""Self-checks of the tiny single-file checkpoints, the shipped configs and the CLIP tokenizer files."""
from __future__ import annotations

import json
import os
import pickletools
import socket
import sys
import zipfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # also runnable without the project's pytest pythonpath setting
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.support import tiny_models as tm
from tests.support.make_key_manifests import full_size_layout, read_manifest
from tests.support.tiny_configs import FAMILIES, tiny_configs

KNOWN_REAL_KEYS = {
    "sd15": ["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
             "model.diffusion_model.input_blocks.4.0.skip_connection.weight",
             "model.diffusion_model.output_blocks.2.1.conv.weight",
             "model.diffusion_model.output_blocks.5.2.conv.weight",
             "first_stage_model.decoder.mid.attn_1.q.weight",
             "first_stage_model.encoder.down.1.block.0.nin_shortcut.weight",
             "cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc1.weight",
             "cond_stage_model.transformer.text_model.embeddings.position_ids", "alphas_cumprod"],
    "sd2": ["cond_stage_model.model.transformer.resblocks.23.attn.in_proj_weight",
            "cond_stage_model.model.ln_final.weight", "cond_stage_model.model.text_projection",
            "cond_stage_model.model.token_embedding.weight", "cond_stage_model.model.positional_embedding"],
    "sdxl": ["model.diffusion_model.label_emb.0.0.weight",
             "model.diffusion_model.input_blocks.8.1.transformer_blocks.9.attn2.to_k.weight",
             "model.diffusion_model.output_blocks.2.2.conv.weight",
             "conditioner.embedders.0.transformer.text_model.encoder.layers.11.self_attn.q_proj.weight",
             "conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_weight",
             "conditioner.embedders.1.model.text_projection", "conditioner.embedders.1.model.logit_scale"],
    "sdxl-refiner": ["conditioner.embedders.0.model.ln_final.weight",
                     "model.diffusion_model.input_blocks.7.1.transformer_blocks.3.attn1.to_v.weight"],
}
NOT_REAL_KEYS = {
    "sd": ["model.diffusion_model.input_blocks.10.1.proj_in.weight",  # SD1/SD2: no attention at the 8x level
           "model.diffusion_model.input_blocks.12.0.op.weight", "model.diffusion_model.label_emb.0.0.weight",
           "cond_stage_model.model.transformer.resblocks.24.ln_1.weight"],
    "sdxl": ["model.diffusion_model.input_blocks.9.0.op.weight",  # no downsampler after the last level
             "model.diffusion_model.input_blocks.1.1.proj_in.weight", "alphas_cumprod"],
    "sdxl-refiner": ["model.diffusion_model.input_blocks.1.1.proj_in.weight", "alphas_cumprod",
                     "model.diffusion_model.input_blocks.10.1.proj_in.weight",
                     "conditioner.embedders.1.model.ln_final.weight",
                     "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight"],
}


@pytest.fixture(scope="module")
def cache(request, tmp_path_factory) -> Path:
    """The suite's per-run tiny-model cache (shared with the e2e tests) or a fresh one."""
    try:
        return request.getfixturevalue("tiny_cache")
    except pytest.FixtureLookupError:
        return tmp_path_factory.mktemp("tiny")


@pytest.fixture
def no_network(monkeypatch):
    """Fail any socket connection attempt (and record it)."""
    attempts = []

    def refuse(*args, **kwargs):
        """Record and refuse the connection."""
        attempts.append(args)
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def _safetensors_layout(path: Path) -> dict[str, tuple]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)


def test_clip_tokenizer_files():
    """CLIP BPE files built from the open_clip vocabulary tokenize exactly like OpenAI CLIP."""
    from transformers import CLIPTokenizer

    root = ROOT / "configs" / "tokenizers"
    vocab = json.loads((root / "clip-l" / "vocab.json").read_text(encoding="utf-8"))
    lines = (root / "clip-l" / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#version: 0.2" and len(lines) == 1 + 48894 and len(vocab) == 49408
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407 and vocab["!</w>"] == 256
    direct = CLIPTokenizer(vocab=vocab, merges=[tuple(x.split()) for x in lines[1:]])
    assert direct("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    for name, pad_id in (("clip-l", 49407), ("openclip", 0)):
        tok = CLIPTokenizer.from_pretrained(str(root / name), local_files_only=True)
        assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
        assert tok.pad_token_id == pad_id and tok.model_max_length == 77 and len(tok) == 49408
    assert (root / "clip-l" / "vocab.json").read_bytes() == (root / "openclip" / "vocab.json").read_bytes()


def test_shipped_configs_are_generated_output(tmp_path):
    """configs/<family>/ is exactly what tools/make_configs.py generates."""
    from tools.make_configs import main

    main(["--out", str(tmp_path)])
    shipped = sorted(p.relative_to(ROOT / "configs") for p in (ROOT / "configs").rglob("*.json")
                     if "tokenizers" not in p.parts)
    assert shipped == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    for rel in shipped:
        assert json.loads((ROOT / "configs" / rel).read_text()) == json.loads((tmp_path / rel).read_text()), rel


@pytest.mark.parametrize("family", FAMILIES)
def test_keys_equal_real_layout(family, cache):
    """Tiny key set == stored manifest == mapping of the full-size components (meta device)."""
    real = full_size_layout(family)
    assert sorted(real) == read_manifest(family), "stale manifest: run python -m tests.support.make_key_manifests"
    tiny = _safetensors_layout(tm.cached_checkpoint(family, "safetensors", cache))
    assert set(tiny) == set(real)
    assert {k: len(s) for k, s in tiny.items()} == {k: len(s) for k, s in real.items()}
    assert tiny["model.diffusion_model.input_blocks.0.0.weight"][1] == real[
        "model.diffusion_model.input_blocks.0.0.weight"][1]  # 4 or 9 input channels, as the real model
    for key in KNOWN_REAL_KEYS.get(family, []):
        assert key in real, key
    not_real = NOT_REAL_KEYS.get(family, NOT_REAL_KEYS["sdxl" if family.startswith("sdxl") else "sd"])
    assert not set(not_real) & set(real)
    assert (tm.cached_checkpoint(family, "safetensors", cache).stat().st_size < 160e6)


def _smoke(pipe, family: str) -> None:
    kwargs = {"prompt": "a cat", "num_inference_steps": 1, "height": 64, "width": 64, "output_type": "np",
              "generator": torch.Generator().manual_seed(0)}
    image = torch.rand(1, 3, 64, 64)
    if "Inpaint" in type(pipe).__name__:
        kwargs.update(image=image, mask_image=torch.ones(1, 1, 64, 64), strength=1.0)
    elif "Img2Img" in type(pipe).__name__:
        kwargs.update(image=image, strength=0.99, num_inference_steps=2)
        del kwargs["height"], kwargs["width"]
    out = pipe(**kwargs).images
    assert out.shape == (1, 64, 64, 3) and bool(torch.isfinite(torch.as_tensor(out)).all())


@pytest.mark.parametrize("family", FAMILIES)
def test_round_trip_through_from_single_file(family, cache, no_network):
    """diffusers loads every tiny tensor bit-exactly, offline, and the pipeline runs one step."""
    import diffusers

    path = tm.cached_checkpoint(family, "safetensors", cache)
    config_dir = tm.tiny_config_dir(family, cache)
    pipeline_cls = getattr(diffusers, json.loads((config_dir / "model_index.json").read_text())["_class_name"])
    pipe = pipeline_cls.from_single_file(str(path), config=str(config_dir), local_files_only=True,
                                         **tm.tokenizer_kwargs(config_dir))
    # The file is our mapping of the seeded source modules; mapping the loaded modules the same way must give
    # back every tensor of the file bit for bit (diffusers' conversion is the exact inverse of ours).
    from safetensors.torch import load_file

    from tests.support.single_file_layout import single_file_state

    stored = load_file(str(path))
    parts = {name: getattr(pipe, name) for name in ("unet", "vae", "text_encoder", "text_encoder_2")
             if getattr(pipe, name, None) is not None}
    assert not [k for m in parts.values() for k, v in m.state_dict().items() if v.is_meta]
    mapped = single_file_state(family, parts, tiny_configs(family))
    unloaded = set(stored) - set(mapped)
    if family.startswith("sd2"):  # diffusers drops OpenCLIP-H's last resblock and its text projection
        assert unloaded == {k for k in stored if ".resblocks.23." in k or k.endswith(".text_projection")}
    else:
        assert unloaded == set()
    assert set(mapped) <= set(stored)
    for key, value in mapped.items():
        assert torch.equal(value, stored[key]), key
    _smoke(pipe, family)
    assert no_network == []


def test_ckpt_format_is_weights_only_loadable(cache):
    """The .ckpt variant is a torch.save'd {'state_dict': ...} readable with weights_only=True."""
    import diffusers

    path = tm.cached_checkpoint("sd15", "ckpt", cache)
    assert zipfile.is_zipfile(path)
    data = torch.load(path, map_location="cpu", weights_only=True)
    assert set(data) == {"state_dict"} and set(data["state_dict"]) == set(read_manifest("sd15"))
    st_path = tm.cached_checkpoint("sd15", "safetensors", cache)
    from safetensors.torch import load_file

    flat = load_file(str(st_path))
    assert all(torch.equal(flat[k], v) for k, v in data["state_dict"].items())
    config_dir = tm.tiny_config_dir("sd15", cache)
    pipe = diffusers.StableDiffusionPipeline.from_single_file(str(path), config=str(config_dir),
                                                              local_files_only=True, **tm.tokenizer_kwargs(config_dir))
    assert torch.equal(pipe.vae.decoder.conv_out.bias, flat["first_stage_model.decoder.conv_out.bias"])


def test_sd2_v_sidecar_and_determinism(cache, tmp_path):
    """sd2-v carries the A1111 v sidecar; builds are byte-deterministic per seed and cached."""
    import yaml

    path = tm.cached_checkpoint("sd2-v", "safetensors", cache)
    sidecar = yaml.safe_load(path.with_suffix(".yaml").read_text())
    assert sidecar["model"]["params"]["parameterization"] == "v"
    assert _safetensors_layout(path) == _safetensors_layout(tm.cached_checkpoint("sd2", "safetensors", cache))
    again = tm.build_checkpoint("sd2-v", tmp_path / "again.safetensors")
    assert again.read_bytes() == path.read_bytes(), "same seed must give the same bytes"
    assert tm.cached_checkpoint("sd2-v", "safetensors", cache).stat().st_mtime_ns == path.stat().st_mtime_ns
    other = tm.build_checkpoint("sd15", tmp_path / "seed1.safetensors", seed=1)
    assert other.read_bytes() != tm.cached_checkpoint("sd15", "safetensors", cache).read_bytes()


def test_standalone_vae_file(tmp_path, cache):
    """The standalone VAE uses the prefix-less LDM layout and loads with AutoencoderKL."""
    from diffusers import AutoencoderKL

    path = tm.build_vae_file(tmp_path / "tiny.vae.safetensors")
    keys = set(_safetensors_layout(path))
    assert keys == {k.removeprefix("first_stage_model.") for k in read_manifest("sd15")
                    if k.startswith("first_stage_model.")}
    vae = AutoencoderKL.from_single_file(str(path), config=str(tm.tiny_config_dir("sd15", cache)), subfolder="vae",
                                         local_files_only=True)
    assert not any(p.is_meta for p in vae.parameters())


def test_malicious_ckpt_is_refused_by_weights_only_loading(tmp_path):
    """The malicious pickle references builtin open and is refused by weights_only loading."""
    sentinel = tmp_path / "pwned.txt"
    evil = tm.build_malicious_ckpt(tmp_path / "evil.ckpt", sentinel)
    with zipfile.ZipFile(evil) as archive:
        pickle_bytes = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    globals_used = [arg for op, arg, _ in pickletools.genops(pickle_bytes) if op.name in ("GLOBAL", "STACK_GLOBAL")
                    or (op.name in ("SHORT_BINUNICODE", "BINUNICODE") and arg in ("open", "io", "_io"))]
    assert any(str(name).split(" ")[-1] == "open" for name in globals_used), globals_used
    with pytest.raises(Exception, match="(?i)weights.only|unsupported global|open"):
        torch.load(evil, map_location="cpu", weights_only=True)
    assert not sentinel.exists()
