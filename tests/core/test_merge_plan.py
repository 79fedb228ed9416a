"""The merger's pure recipe: request checks, names and the per-tensor plan from headers alone (no torch)."""
from __future__ import annotations

import doctest
import json

import pytest

from modules.core import merge, merge_metadata
from modules.core.errors import InvalidRequest, UnsupportedModel
from modules.core.merge import MergeRequest, Operation, TensorInfo, output_filename, validate_request
from modules.core.merge_metadata import MergeInput, build_metadata
from modules.core.merge_plan import MergeInputs, plan_tensors

F32 = "F32"
CONV_IN = "model.diffusion_model.input_blocks.0.0.weight"
HEADER = {
    CONV_IN: TensorInfo(F32, (8, 4, 3, 3)),
    "model.diffusion_model.out.2.bias": TensorInfo(F32, (4,)),
    "first_stage_model.decoder.conv_in.weight": TensorInfo(F32, (8, 4, 3, 3)),
    "cond_stage_model.transformer.text_model.embeddings.position_ids": TensorInfo("I64", (1, 77)),
    "alphas_cumprod": TensorInfo(F32, (1000,)),
}


def _ops(plan) -> dict[str, Operation]:
    return {step.key: step.operation for step in plan.steps}


def test_doctests():
    for module in (merge, merge_metadata):
        assert doctest.testmod(module).failed == 0


def test_weighted_sum_merges_float_model_keys_and_copies_the_rest():
    plan = plan_tensors(MergeRequest("a", "b"), MergeInputs(a=HEADER, b=HEADER))
    assert _ops(plan) == {CONV_IN: Operation.MERGE, "model.diffusion_model.out.2.bias": Operation.MERGE,
                          "first_stage_model.decoder.conv_in.weight": Operation.MERGE,
                          "cond_stage_model.transformer.text_model.embeddings.position_ids": Operation.COPY,
                          "alphas_cumprod": Operation.COPY}
    assert [s.key for s in plan.steps] == sorted(HEADER)


def test_float_position_ids_of_any_text_encoder_are_copied_from_a():
    keys = ("cond_stage_model.transformer.text_model.embeddings.position_ids",
            "conditioner.embedders.0.transformer.text_model.embeddings.position_ids")
    ids = {k: TensorInfo(F32, (1, 77)) for k in keys}
    plan = plan_tensors(MergeRequest("a", "b"), MergeInputs(ids, ids))
    assert set(_ops(plan).values()) == {Operation.COPY}


def test_add_difference_copies_keys_that_b_or_c_lack():
    b = {k: v for k, v in HEADER.items() if k != CONV_IN}
    c = {k: v for k, v in HEADER.items() if k != "model.diffusion_model.out.2.bias"}
    plan = plan_tensors(MergeRequest("a", "b", "c", interp_method="Add difference"), MergeInputs(HEADER, b, c))
    assert _ops(plan)[CONV_IN] is Operation.COPY
    assert _ops(plan)["model.diffusion_model.out.2.bias"] is Operation.COPY
    assert _ops(plan)["first_stage_model.decoder.conv_in.weight"] is Operation.MERGE


def test_inpainting_and_pix2pix_channels_and_the_wrong_order():
    for channels, flag in ((9, "is_inpainting"), (8, "is_instruct_pix2pix")):
        a = {**HEADER, CONV_IN: TensorInfo(F32, (8, channels, 3, 3))}
        plan = plan_tensors(MergeRequest("a", "b"), MergeInputs(a, HEADER))
        step = next(s for s in plan.steps if s.key == CONV_IN)
        assert step.operation is Operation.MERGE_CHANNELS and step.channels == 4 and getattr(plan, flag)
        assert output_filename(MergeRequest("a", "b", multiplier=0.5), plan, "a", "b").endswith(
            f".{flag[3:].replace('_', '-')}.safetensors")
    with pytest.raises(UnsupportedModel, match="A must be the inpainting model"):
        plan_tensors(MergeRequest("a", "b"), MergeInputs(HEADER, {**HEADER, CONV_IN: TensorInfo(F32, (8, 9, 3, 3))}))
    with pytest.raises(UnsupportedModel, match="different shapes"):
        plan_tensors(MergeRequest("a", "b"), MergeInputs(HEADER, {**HEADER, CONV_IN: TensorInfo(F32, (16, 4, 3, 3))}))


def test_dtypes_promote_and_halve():
    b = {k: TensorInfo("F16", v.shape) if v.dtype == F32 else v for k, v in HEADER.items()}
    plan = plan_tensors(MergeRequest("a", "b"), MergeInputs(HEADER, b))
    assert {s.dtype for s in plan.steps if s.operation is Operation.MERGE} == {F32}
    plan = plan_tensors(MergeRequest("a", "b", save_as_half=True), MergeInputs(HEADER, b))
    assert {s.key: s.dtype for s in plan.steps}["alphas_cumprod"] == "F16"
    assert {s.key: s.dtype for s in plan.steps}[
        "cond_stage_model.transformer.text_model.embeddings.position_ids"] == "I64"


def test_discard_and_vae_bake():
    vae = {"decoder.conv_in.weight": TensorInfo("F16", (8, 4, 3, 3)), "loss.logvar": TensorInfo(F32, ())}
    plan = plan_tensors(MergeRequest("a", interp_method="No interpolation", bake_in_vae="v", discard_weights="^alph"),
                        MergeInputs(HEADER, vae=vae))
    step = next(s for s in plan.steps if s.key == "first_stage_model.decoder.conv_in.weight")
    assert step.operation is Operation.VAE and step.source_key == "decoder.conv_in.weight" and step.dtype == "F16"
    assert "alphas_cumprod" not in _ops(plan)
    with pytest.raises(InvalidRequest, match="no tensors matching"):
        plan_tensors(MergeRequest("a", bake_in_vae="v"), MergeInputs(HEADER, HEADER, vae={"x": TensorInfo(F32, ())}))


@pytest.mark.parametrize("changes,message", [
    ({"primary": ""}, "requires a primary model"), ({"secondary": ""}, "requires a secondary model"),
    ({"interp_method": "Add difference"}, "requires a tertiary model"), ({"multiplier": 1.5}, "between 0 and 1"),
    ({"checkpoint_format": "ckpt"}, "safetensors"), ({"discard_weights": "("}, "invalid regular expression"),
    ({"metadata_json": "[1]"}, "JSON object"), ({"custom_name": "../x"}, "plain file name"),
    ({"interp_method": "Sigmoid"}, "Unknown interpolation"), ({"config_source": 7}, "Copy config from"),
])
def test_request_checks(changes, message):
    with pytest.raises(InvalidRequest, match=message):
        validate_request(MergeRequest(**{"primary": "a", "secondary": "b", **changes}))


def test_metadata_copies_inputs_then_user_json_then_recipe():
    request = MergeRequest("a", "b", metadata_json='{"x": "user"}')
    plan = plan_tensors(request, MergeInputs(HEADER, HEADER))
    inputs = {"A": MergeInput("a.safetensors", "aa", "1111", {"x": "a", "y": "a"}),
              "B": MergeInput("b.safetensors", "bb", "2222", {"sd_merge_models": json.dumps({"cc": {"name": "c"}})})}
    metadata = build_metadata(request, plan, inputs)
    assert metadata["x"] == "user" and metadata["y"] == "a" and metadata["format"] == "pt"
    assert json.loads(metadata["sd_merge_models"]) == {
        "aa": {"name": "a.safetensors", "legacy_hash": "1111", "sd_merge_recipe": None},
        "bb": {"name": "b.safetensors", "legacy_hash": "2222", "sd_merge_recipe": None}, "cc": {"name": "c"}}
    assert json.loads(metadata["sd_merge_recipe"])["secondary_model_hash"] == "bb"
    assert build_metadata(MergeRequest("a", "b", save_metadata=False), plan, inputs) == {}
