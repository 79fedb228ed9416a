"""Our merged LoRAs compute what diffusers' own PEFT adapters compute, and restore the base weights exactly."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from modules.adapters.devices import DevicePolicy
from modules.adapters.diffusers_backend import DiffusersBackend
from modules.adapters.lora import LoraState, LoraWish, apply_loras
from modules.adapters.lora_files import read_lora_file
from modules.core.model_catalog import ModelRecord
from tests.support.tiny_addons import build_kohya_lora

ROOT = Path(__file__).resolve().parents[2]


def _pipe(checkpoint: Path):
    stat = checkpoint.stat()
    backend = DiffusersBackend(ROOT / "configs", DevicePolicy(force_cpu=True, no_half=True))
    return backend.load_checkpoint(ModelRecord(checkpoint.name, checkpoint, stat.st_size, stat.st_mtime_ns)).handle.pipe


def _with_alpha_and_locon(source: Path, dest: Path, pipe) -> Path:
    """The kohya file with alpha = rank / 2 (scale 0.5) and one LoCon 3x3 conv layer added."""
    tensors = load_file(str(source))
    for key in [k for k in tensors if k.endswith(".alpha")]:
        tensors[key] = tensors[key] / 2
    conv = pipe.unet.down_blocks[0].resnets[0].conv1
    generator = torch.Generator().manual_seed(7)
    name = "lora_unet_down_blocks_0_resnets_0_conv1"
    tensors[f"{name}.lora_down.weight"] = torch.randn(4, conv.in_channels, 3, 3, generator=generator) * 0.05
    tensors[f"{name}.lora_up.weight"] = torch.randn(conv.out_channels, 4, 1, 1, generator=generator) * 0.5
    tensors[f"{name}.alpha"] = torch.tensor(2.0)
    save_file(tensors, str(dest))
    return dest


def _outputs(pipe, family: str) -> list[torch.Tensor]:
    """Text-encoder hidden states and one UNet call on fixed inputs."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 1000, (1, 77), generator=generator)
    outs = [pipe.text_encoder(ids, output_hidden_states=True).hidden_states[-2]]
    extra = {}
    if family == "sdxl":
        te2 = pipe.text_encoder_2(ids, output_hidden_states=True)
        outs.append(te2.hidden_states[-2])
        context = torch.cat([outs[0], outs[1]], dim=-1)
        extra = {"added_cond_kwargs": {"text_embeds": te2.text_embeds,
                                       "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]])}}
    else:
        context = outs[0]
    latents = torch.randn(1, 4, 16, 16, generator=generator)
    outs.append(pipe.unet(latents, torch.tensor(500), encoder_hidden_states=context, **extra).sample)
    return outs


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
@torch.no_grad()
def test_merged_lora_matches_peft_adapters_and_restores_exactly(family, tiny_checkpoint, tmp_path):
    checkpoint = tiny_checkpoint(family)
    ours, reference = _pipe(checkpoint), _pipe(checkpoint)
    plain = build_kohya_lora(family, tmp_path / "plain.safetensors", seed=5)
    path = _with_alpha_and_locon(plain, tmp_path / "lora.safetensors", ours) if family == "sd15" else plain
    baseline = _outputs(ours, family)

    state = LoraState()
    applied, failed = apply_loras(ours, state, [LoraWish("x", path, 0.8, 0.6)], keep=4)
    assert applied == ["x"] and failed == {}
    reference.load_lora_weights(str(path), adapter_name="x")
    weights = {"unet": 0.6, "text_encoder": 0.8, "text_encoder_2": 0.8}
    reference.set_adapters(["x"], adapter_weights=[{k: v for k, v in weights.items()
                                                   if getattr(reference, k, None) is not None}])
    for mine, theirs, base in zip(_outputs(ours, family), _outputs(reference, family), baseline):
        assert not torch.equal(mine, base)
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-4)

    apply_loras(ours, state, [], keep=4)
    assert state.originals == {} and state.holding == {}
    for restored, base in zip(_outputs(ours, family), baseline):
        assert torch.equal(restored, base), "removal must restore the base weights bit for bit"


@torch.no_grad()
def test_only_changed_layers_are_repatched(tiny_checkpoint, tmp_path):
    pipe = _pipe(tiny_checkpoint("sd15"))
    unet_only = build_kohya_lora("sd15", tmp_path / "u.safetensors", seed=1, te=False)
    both = build_kohya_lora("sd15", tmp_path / "b.safetensors", seed=2)
    state = LoraState()
    apply_loras(pipe, state, [LoraWish("b", both, 1.0, 1.0)], keep=4)
    te_keys = {k for k in state.holding if k[0] != "unet"}
    te_before = {k: pipe.text_encoder.get_submodule(k[1]).weight.clone() for k in te_keys}
    apply_loras(pipe, state, [LoraWish("b", both, 1.0, 1.0), LoraWish("u", unet_only, 1.0, 1.0)], keep=4)
    assert te_keys and all(state.holding[k] == (("b", both.stat().st_mtime_ns, 1.0),) for k in te_keys)
    for key, before in te_before.items():
        assert torch.equal(pipe.text_encoder.get_submodule(key[1]).weight, before)
    assert all(len(state.holding[k]) == 2 for k in state.holding if k[0] == "unet")


def test_sdxl_file_on_sd1_is_refused_with_a_reason(tiny_checkpoint, tmp_path):
    from modules.adapters.lora_files import LoraMismatch

    pipe = _pipe(tiny_checkpoint("sd15"))
    with pytest.raises(LoraMismatch, match="another architecture"):
        read_lora_file(pipe, build_kohya_lora("sdxl", tmp_path / "xl.safetensors"))
