"""Load a standalone VAE file (A1111 ``models/VAE``) as an AutoencoderKL sized from its own tensors."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from modules.core.errors import UnsupportedModel
from modules.core.model_family import ModelFamily

from .checkpoint_files import read_state_dict, shapes_of
from .model_configs import derive_vae, vae_prefix


def load_vae(path: Path, family: ModelFamily, configs_root: Path, dtype: torch.dtype) -> AutoencoderKL:
    """Read ``path`` safely and build its VAE with the family's conventions (e.g. the scaling factor)."""
    state = read_state_dict(path)
    shapes = shapes_of(state)
    prefix = vae_prefix(shapes)
    if prefix + "decoder.conv_in.weight" not in shapes or prefix + "encoder.conv_in.weight" not in shapes:
        raise UnsupportedModel(f"{path.name}: not a VAE (no encoder/decoder weights found)")
    base = json.loads((configs_root / family.value / "vae" / "config.json").read_text(encoding="utf-8"))
    config = derive_vae(base, shapes, prefix)
    with tempfile.TemporaryDirectory(prefix="sd-vae-config-") as tmp:
        (Path(tmp) / "vae").mkdir()
        (Path(tmp) / "vae" / "config.json").write_text(json.dumps(config), encoding="utf-8")
        try:
            return AutoencoderKL.from_single_file(state, config=tmp, subfolder="vae", local_files_only=True,
                                                  torch_dtype=dtype)
        except (KeyError, ValueError, RuntimeError) as exc:
            raise UnsupportedModel(f"{path.name}: cannot be loaded as a VAE: {exc}") from exc
