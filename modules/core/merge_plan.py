"""Decide, from the inputs' headers alone, how every output tensor of a merge is made (A1111's key rules)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .errors import InvalidRequest, UnsupportedModel
from .merge import (ADD_DIFFERENCE, FLOAT_DTYPES, KEPT_FROM_A_SUFFIX, NO_INTERPOLATION, MergeRequest, Operation,
                    TensorInfo, TensorPlan, TensorStep, discard_pattern, merged_dtype, vae_keys)

Header = Mapping[str, TensorInfo]
_EXTRA_CHANNELS = {9: "inpainting", 8: "instruct-pix2pix"}  # UNet input channels of A that B (4) lacks


@dataclass(frozen=True)
class MergeInputs:
    """The tensor names, dtypes and shapes of A and of B, C and the VAE when the request uses them."""

    a: Header
    b: Header | None = None
    c: Header | None = None
    vae: Header | None = None


def plan_tensors(request: MergeRequest, inputs: MergeInputs) -> TensorPlan:
    """Every output tensor (A's keys minus discarded ones, sorted); raise on shapes that cannot be merged."""
    discard = discard_pattern(request.discard_weights)
    baked = _baked(request, inputs)
    steps, extra = [], set()
    for key in sorted(inputs.a):
        if discard is not None and discard.search(key):
            continue
        if key in baked:
            steps.append(baked[key])
            continue
        step = _step(request, inputs, key)
        if step.operation is Operation.MERGE_CHANNELS:
            extra.add(_EXTRA_CHANNELS[inputs.a[key].shape[1]])
        steps.append(step)
    return TensorPlan(steps=tuple(steps), is_inpainting="inpainting" in extra,
                      is_instruct_pix2pix="instruct-pix2pix" in extra)


def _copy(request: MergeRequest, key: str, a: TensorInfo) -> TensorStep:
    dtype = merged_dtype(request, a.dtype) if a.dtype in FLOAT_DTYPES else a.dtype
    return TensorStep(key, Operation.COPY, dtype, a.shape)


def _step(request: MergeRequest, inputs: MergeInputs, key: str) -> TensorStep:
    """One key of A: copied unless it is a float "model" tensor that B (and C for add difference) also have."""
    a = inputs.a[key]
    b = inputs.b.get(key) if inputs.b is not None else None
    c = inputs.c.get(key) if inputs.c is not None else None
    if (request.interp_method == NO_INTERPOLATION or a.dtype not in FLOAT_DTYPES or key.endswith(KEPT_FROM_A_SUFFIX)
            or "model" not in key or b is None or (request.interp_method == ADD_DIFFERENCE and c is None)):
        return _copy(request, key, a)
    _check_float(key, b, c)
    if c is not None and c.shape != b.shape:
        raise UnsupportedModel(f"Cannot merge {key}: B has shape {list(b.shape)} but C has {list(c.shape)}")
    dtype = merged_dtype(request, *(t.dtype for t in (a, b, c) if t is not None))
    if a.shape == b.shape:
        return TensorStep(key, Operation.MERGE, dtype, a.shape)
    return TensorStep(key, Operation.MERGE_CHANNELS, dtype, a.shape, channels=_channels(key, a, b))


def _check_float(key: str, *others: TensorInfo | None) -> None:
    for info in others:
        if info is not None and info.dtype not in FLOAT_DTYPES:
            raise UnsupportedModel(f"Cannot merge {key}: a float tensor in A is {info.dtype} in another model")


def _channels(key: str, a: TensorInfo, b: TensorInfo) -> int:
    """How many input channels to merge when A is an inpainting (9) or instruct-pix2pix (8) model and B is not."""
    same_elsewhere = len(a.shape) == len(b.shape) == 4 and a.shape[:1] + a.shape[2:] == b.shape[:1] + b.shape[2:]
    if same_elsewhere and b.shape[1] == 4 and a.shape[1] in _EXTRA_CHANNELS:
        return 4
    if same_elsewhere and a.shape[1] == 4 and b.shape[1] in _EXTRA_CHANNELS:
        kind = _EXTRA_CHANNELS[b.shape[1]]
        raise UnsupportedModel(f"When merging {kind} model with a normal one, A must be the {kind} model.")
    raise UnsupportedModel(f"Cannot merge {key}: the models have different shapes (A={list(a.shape)}, "
                           f"B={list(b.shape)}); they are probably different architectures")


def _baked(request: MergeRequest, inputs: MergeInputs) -> dict[str, TensorStep]:
    """The steps that take a tensor from the VAE file (only keys A has, as A1111); refuse a VAE that fits nothing."""
    if inputs.vae is None:
        return {}
    steps = {}
    for key, vae_key in vae_keys(inputs.vae).items():
        if key not in inputs.a:
            continue
        info, own = inputs.vae[vae_key], inputs.a[key]
        if info.shape != own.shape:
            raise UnsupportedModel(f"Bake in VAE: {vae_key} has shape {list(info.shape)} but the checkpoint's "
                                   f"{key} has {list(own.shape)}; the VAE is for another model family")
        dtype = merged_dtype(request, info.dtype) if info.dtype in FLOAT_DTYPES else info.dtype
        steps[key] = TensorStep(key, Operation.VAE, dtype, own.shape, source_key=vae_key)
    if not steps:
        raise InvalidRequest(f"Bake in VAE: {request.bake_in_vae} has no tensors matching the checkpoint's "
                             "VAE (first_stage_model.*); is it a diffusers-format or SDXL/SD1 mismatch?")
    return steps
