"""Tell a checkpoint's family from its tensor names and shapes, never from file size or the hub."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from .errors import UnsupportedModel
from .model_family import ModelFamily

Shapes = Mapping[str, tuple[int, ...]]

UNET_IN = "model.diffusion_model.input_blocks.0.0.weight"
SDXL_BIGG = "conditioner.embedders.1.model.ln_final.weight"
SDXL_REFINER_G = "conditioner.embedders.0.model.ln_final.weight"
SD2_OPENCLIP = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"
_V_PARAM = re.compile(r"""^\s*parameterization\s*:\s*["']?v["']?\s*$""", re.MULTILINE)


def probe_family(shapes: Shapes, *, name: str) -> ModelFamily:
    """Return the family in A1111's detection order; SD2 is reported as epsilon (see ``sidecar_v_prediction``).

    >>> probe_family({UNET_IN: (320, 4, 3, 3), "cond_stage_model.transformer.text_model.x": (1,)}, name="x")
    <ModelFamily.SD1: 'sd15'>
    >>> probe_family({UNET_IN: (320, 9, 3, 3), SD2_OPENCLIP: (3072, 1024)}, name="x")
    <ModelFamily.SD2_INPAINT: 'sd2-inpaint'>
    """
    if UNET_IN not in shapes:
        raise UnsupportedModel(f"{name}: not a Stable Diffusion checkpoint (no UNet weights found)")
    in_channels = shapes[UNET_IN][1]
    if in_channels == 8:
        raise UnsupportedModel(f"{name}: instruct-pix2pix checkpoints are not supported yet")
    if in_channels not in (4, 9):
        raise UnsupportedModel(f"{name}: unexpected UNet input with {in_channels} channels")
    inpaint = in_channels == 9
    if SDXL_BIGG in shapes:
        return ModelFamily.SDXL_INPAINT if inpaint else ModelFamily.SDXL
    if SDXL_REFINER_G in shapes:
        return ModelFamily.SDXL_REFINER
    if SD2_OPENCLIP in shapes:
        return ModelFamily.SD2_INPAINT if inpaint else ModelFamily.SD2
    if not any(k.startswith("cond_stage_model.transformer.") for k in shapes):
        raise UnsupportedModel(f"{name}: no text encoder found; only full SD1/SD2/SDXL checkpoints load")
    return ModelFamily.SD1_INPAINT if inpaint else ModelFamily.SD1


def sidecar_yaml(checkpoint: Path) -> Path | None:
    """The A1111 ``<basename>.yaml`` config beside a checkpoint, if present."""
    candidate = checkpoint.with_suffix(".yaml")
    return candidate if candidate.is_file() else None


def sidecar_v_prediction(checkpoint: Path) -> bool | None:
    """True/False when a sidecar ``.yaml`` states the parameterization, None when there is none."""
    path = sidecar_yaml(checkpoint)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")[:65536]
    return bool(_V_PARAM.search(text))
