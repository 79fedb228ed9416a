"""The Checkpoint Merger's recipe: A1111's methods, request checks, output name and per-tensor plan (no tensors)."""
from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass
from typing import Mapping

from .errors import InvalidRequest

NO_INTERPOLATION, WEIGHTED_SUM, ADD_DIFFERENCE = "No interpolation", "Weighted sum", "Add difference"
INTERP_METHODS = (NO_INTERPOLATION, WEIGHTED_SUM, ADD_DIFFERENCE)
CONFIG_SOURCES = ("A, B or C", "B", "C", "Don't")  # A1111's "Copy config from" radio, passed by index
FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})
# A1111 copies SD1's CLIP position ids from A; every text encoder's ids are copied here (float-stored ids merged
# as (1-M)·x + M·x need not come back as whole numbers)
KEPT_FROM_A_SUFFIX = "embeddings.position_ids"
VAE_PREFIX = "first_stage_model."
OUTPUT_SUFFIX = ".safetensors"
_BAD_NAME_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_MAX_NAME = 200


class Operation(str, enum.Enum):
    """What one output tensor is made of."""

    COPY = "copy"  # A's tensor (cast to the output dtype)
    MERGE = "merge"  # the method's formula over the whole tensor
    MERGE_CHANNELS = "merge_channels"  # the formula over A's first `channels` input channels, the rest from A
    VAE = "vae"  # the baked-in VAE's tensor `source_key`


@dataclass(frozen=True)
class TensorInfo:
    """A tensor's dtype (safetensors spelling: F32, F16, BF16, I64, ...) and shape, read from a file header."""

    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class TensorStep:
    """How to produce one output tensor, with its dtype and shape decided before any data is read."""

    key: str
    operation: Operation
    dtype: str
    shape: tuple[int, ...]
    source_key: str = ""
    channels: int = 0


@dataclass(frozen=True)
class TensorPlan:
    """Every output tensor in file order, and whether A's extra input channels made it an inpainting/pix2pix model."""

    steps: tuple[TensorStep, ...]
    is_inpainting: bool = False
    is_instruct_pix2pix: bool = False


@dataclass(frozen=True)
class MergeRequest:
    """The Checkpoint Merger tab's fields (A1111 names); models are catalog aliases, VAE a VAE name or "None"."""

    primary: str
    secondary: str = ""
    tertiary: str = ""
    interp_method: str = WEIGHTED_SUM
    multiplier: float = 0.3
    save_as_half: bool = False
    custom_name: str = ""
    checkpoint_format: str = "safetensors"
    config_source: int = 0
    bake_in_vae: str = "None"
    discard_weights: str = ""
    save_metadata: bool = True
    add_merge_recipe: bool = True
    copy_metadata_fields: bool = True
    metadata_json: str = "{}"
    overwrite: bool = False

    @property
    def uses_secondary(self) -> bool:
        """Whether the method reads model B."""
        return self.interp_method in (WEIGHTED_SUM, ADD_DIFFERENCE)

    @property
    def uses_tertiary(self) -> bool:
        """Whether the method reads model C."""
        return self.interp_method == ADD_DIFFERENCE


def validate_request(request: MergeRequest) -> None:
    """Raise InvalidRequest naming the first field that is missing or out of range."""
    if request.interp_method not in INTERP_METHODS:
        raise InvalidRequest(f"Unknown interpolation method {request.interp_method!r}; "
                             f"expected one of {', '.join(INTERP_METHODS)}")
    if not request.primary:
        raise InvalidRequest("Failed: Merging requires a primary model.")
    if request.uses_secondary and not request.secondary:
        raise InvalidRequest("Failed: Merging requires a secondary model.")
    if request.uses_tertiary and not request.tertiary:
        raise InvalidRequest(f"Failed: Interpolation method ({request.interp_method}) requires a tertiary model.")
    if not (math.isfinite(request.multiplier) and 0.0 <= request.multiplier <= 1.0):
        raise InvalidRequest(f"Multiplier (M) must be between 0 and 1, got {request.multiplier}")
    if request.checkpoint_format != "safetensors":
        raise InvalidRequest("Only the safetensors format is written (a .ckpt pickle can carry code); "
                             f"got {request.checkpoint_format!r}")
    if request.config_source not in range(len(CONFIG_SOURCES)):
        raise InvalidRequest(f"Copy config from must be 0-{len(CONFIG_SOURCES) - 1}, got {request.config_source}")
    discard_pattern(request.discard_weights)
    if request.save_metadata:
        user_metadata(request.metadata_json)
    if request.custom_name.strip():
        checked_name(request.custom_name)


def discard_pattern(text: str) -> re.Pattern | None:
    """The compiled "Discard weights with matching name" regex (None when empty); InvalidRequest if malformed."""
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise InvalidRequest(f"Discard weights: invalid regular expression {text!r} ({exc})") from exc


def user_metadata(text: str) -> dict[str, str]:
    """The "Metadata in JSON format" box as string values (non-strings JSON-encoded); InvalidRequest if not an object.

    >>> user_metadata('{"a": "x", "b": {"c": 1}}')
    {'a': 'x', 'b': '{"c": 1}'}
    """
    try:
        value = json.loads(text or "{}")
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"Metadata in JSON format is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("Metadata in JSON format must be a JSON object ({...})")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def checked_name(name: str) -> str:
    """A custom output name without the extension; refuses folders, `..`, hidden names and reserved characters.

    >>> checked_name("  my mix.safetensors ")
    'my mix'
    """
    name = name.strip()
    if name.lower().endswith(OUTPUT_SUFFIX):
        name = name[:-len(OUTPUT_SUFFIX)]
    if not name or name.startswith(".") or ".." in name or _BAD_NAME_CHARS.search(name) or len(name) > _MAX_NAME:
        raise InvalidRequest(f"Custom name {name!r} is not a plain file name: no folders, '..', leading '.' "
                             f"or any of <>:\"/\\|?* (at most {_MAX_NAME} characters)")
    return name


def default_name(request: MergeRequest, a: str, b: str, c: str) -> str:
    """A1111's name from the inputs' model names and the method.

    >>> default_name(MergeRequest("x", interp_method=WEIGHTED_SUM, multiplier=0.3), "a", "b", "")
    '0.7(a) + 0.3(b)'
    >>> default_name(MergeRequest("x", interp_method=ADD_DIFFERENCE, multiplier=0.5), "a", "b", "c")
    'a + 0.5(b - c)'
    """
    m = request.multiplier
    if request.interp_method == WEIGHTED_SUM:
        return f"{round(1 - m, 2)}({a}) + {round(m, 2)}({b})"
    if request.interp_method == ADD_DIFFERENCE:
        return f"{a} + {round(m, 2)}({b} - {c})"
    return a


def output_filename(request: MergeRequest, plan: TensorPlan, a: str, b: str = "", c: str = "") -> str:
    """The output file name: custom or A1111's default, `.inpainting`/`.instruct-pix2pix` when so, `.safetensors`."""
    base = checked_name(request.custom_name) if request.custom_name.strip() else default_name(request, a, b, c)
    base += ".inpainting" if plan.is_inpainting else ""
    base += ".instruct-pix2pix" if plan.is_instruct_pix2pix else ""
    return checked_name(base + OUTPUT_SUFFIX) + OUTPUT_SUFFIX


def vae_keys(vae: Mapping[str, TensorInfo]) -> dict[str, str]:
    """Checkpoint key -> VAE file key (training-loss and EMA bookkeeping dropped, as A1111; keys already under
    `first_stage_model.`, as in a VAE cut from a checkpoint, are kept).

    >>> vae_keys({"decoder.conv_in.weight": None, "loss.logvar": None, "first_stage_model.quant_conv.bias": None})
    {'first_stage_model.decoder.conv_in.weight': 'decoder.conv_in.weight', \
'first_stage_model.quant_conv.bias': 'first_stage_model.quant_conv.bias'}
    """
    skipped = ("model_ema.decay", "model_ema.num_updates")
    return {k if k.startswith(VAE_PREFIX) else VAE_PREFIX + k: k for k in vae
            if not k.startswith("loss") and k not in skipped}


def merged_dtype(request: MergeRequest, *dtypes: str) -> str:
    """The output dtype: float inputs promote as torch does (mixed -> F32, any F64 -> F64); F32 -> F16 when halving.

    >>> merged_dtype(MergeRequest("x", save_as_half=True), "F32", "F16")
    'F16'
    >>> merged_dtype(MergeRequest("x"), "BF16", "F16")
    'F32'
    """
    kinds = set(dtypes)
    dtype = dtypes[0] if len(kinds) == 1 else ("F64" if "F64" in kinds else "F32")
    return "F16" if request.save_as_half and dtype == "F32" else dtype
