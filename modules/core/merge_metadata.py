"""The merged checkpoint's safetensors metadata: copied input fields, the user's JSON and A1111's merge recipe."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

from .merge import MergeRequest, TensorPlan, user_metadata


@dataclass(frozen=True)
class MergeInput:
    """One input checkpoint as the recipe names it: catalog name, full sha256, old 8-hex hash, raw metadata."""

    name: str
    sha256: str
    legacy_hash: str
    metadata: Mapping[str, str] = field(default_factory=dict)


def _decoded(value: object) -> object:
    """A metadata value with JSON objects decoded, as A1111 reads checkpoint metadata."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


def merge_recipe(request: MergeRequest, plan: TensorPlan, inputs: Mapping[str, MergeInput]) -> dict:
    """A1111's `sd_merge_recipe` object (`inputs` keyed "A", "B", "C")."""
    def sha(role: str) -> str | None:
        return inputs[role].sha256 if role in inputs else None

    return {
        "type": "webui",
        "primary_model_hash": sha("A"),
        "secondary_model_hash": sha("B"),
        "tertiary_model_hash": sha("C"),
        "interp_method": request.interp_method,
        "multiplier": request.multiplier,
        "save_as_half": request.save_as_half,
        "custom_name": request.custom_name,
        "config_source": request.config_source,
        "bake_in_vae": request.bake_in_vae,
        "discard_weights": request.discard_weights,
        "is_inpainting": plan.is_inpainting,
        "is_instruct_pix2pix": plan.is_instruct_pix2pix,
    }


def merge_models(inputs: Mapping[str, MergeInput]) -> dict:
    """A1111's `sd_merge_models`: each input by sha256 with its own recipe, plus the models it was merged from."""
    models: dict = {}
    for role in ("A", "B", "C"):
        model = inputs.get(role)
        if model is None:
            continue
        models[model.sha256] = {"name": model.name, "legacy_hash": model.legacy_hash,
                                "sd_merge_recipe": _decoded(model.metadata.get("sd_merge_recipe"))}
        earlier = _decoded(model.metadata.get("sd_merge_models"))
        if isinstance(earlier, dict):
            models.update(earlier)
    return models


def build_metadata(request: MergeRequest, plan: TensorPlan, inputs: Mapping[str, MergeInput]) -> dict[str, str]:
    """The output's `__metadata__` (empty when "Save metadata" is off), in A1111's order of precedence."""
    if not request.save_metadata:
        return {}
    metadata: dict[str, str] = {}
    if request.copy_metadata_fields:
        for role in ("A", "B", "C"):
            if role in inputs:
                metadata.update({k: v for k, v in inputs[role].metadata.items() if isinstance(v, str)})
    metadata.update(user_metadata(request.metadata_json))
    metadata["format"] = "pt"
    if request.add_merge_recipe:
        metadata["sd_merge_recipe"] = json.dumps(merge_recipe(request, plan, inputs))
        metadata["sd_merge_models"] = json.dumps(merge_models(inputs))
    return metadata


def combined_metadata(metadatas: list[Mapping[str, str]]) -> str:
    """A1111's "Read metadata from selected checkpoints": the inputs' fields merged, as indented JSON.

    >>> print(combined_metadata([{"a": "1"}, {"b": '{"c": 2}'}]))
    {
        "a": "1",
        "b": {
            "c": 2
        }
    }
    """
    merged: dict = {}
    for metadata in metadatas:
        merged.update({k: _decoded(v) for k, v in metadata.items()})
    return json.dumps(merged, indent=4, ensure_ascii=False)
