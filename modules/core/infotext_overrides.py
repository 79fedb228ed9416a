"""Settings an infotext asks for (A1111's "Override settings" chips such as `Clip skip: 2`) and the checkpoint it
names; the chips become a request's `override_settings` for that job only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .errors import InvalidRequest
from .paste_fields import number_value as _number
from .settings import Settings, validate_value

SETTING_INFOTEXT_KEYS: tuple[tuple[str, str], ...] = (
    ("Clip skip", "CLIP_stop_at_last_layers"), ("Emphasis", "emphasis"), ("RNG", "randn_source"),
    ("ENSD", "eta_noise_seed_delta"), ("Eta", "eta_ancestral"), ("Eta DDIM", "eta_ddim"),
    ("Sigma churn", "s_churn"), ("Sigma tmin", "s_tmin"), ("Sigma tmax", "s_tmax"), ("Sigma noise", "s_noise"),
    ("Schedule min sigma", "sigma_min"), ("Schedule max sigma", "sigma_max"), ("Schedule rho", "rho"),
    ("Discard penultimate sigma", "always_discard_next_to_last_sigma"),
    ("SGM noise multiplier", "sgm_noise_multiplier"), ("UniPC order", "uni_pc_order"),
    ("UniPC lower order final", "uni_pc_lower_order_final"), ("Beta schedule alpha", "beta_dist_alpha"),
    ("Beta schedule beta", "beta_dist_beta"), ("Conditional mask weight", "inpainting_mask_weight"),
    ("Noise multiplier", "initial_noise_multiplier"), ("Pad conds", "pad_cond_uncond"),
    ("Old prompt editing timelines", "use_old_scheduling"), ("VAE", "sd_vae"),
)
"""Infotext keys that stand for a setting (A1111's `OptionInfo(infotext=…)`), limited to settings we have."""
CHECKPOINT_CHIP = "Checkpoint"
"""Chip key of a pasted checkpoint; its value is the local checkpoint title (A1111 shows `Model hash: …`)."""


@dataclass(frozen=True)
class SettingOverride:
    """A setting an infotext asks for: its infotext key, setting key and typed value."""

    infotext_key: str
    setting_key: str
    value: object

    @property
    def chip(self) -> str:
        """The text shown in the "Override settings" box, e.g. ``Clip skip: 2``."""
        return f"{self.infotext_key}: {self.value}"



def _cast(settings: Settings, key: str, value: object) -> object:
    spec = settings.specs[key]
    if spec.kind is bool:
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise InvalidRequest(f"{key}: not a boolean: {value!r}")
        return text in ("true", "1")
    if spec.kind in (int, float):
        number = _number(value)
        if number is None:
            raise InvalidRequest(f"{key}: not a number: {value!r}")
        return validate_value(spec, int(number) if spec.kind is int else float(number))
    return validate_value(spec, str(value))


def setting_overrides(info: Mapping[str, object], settings: Settings) -> tuple[SettingOverride, ...]:
    """Settings the infotext names with a valid value different from the current one (A1111's chips)."""
    found = []
    for infotext_key, setting_key in SETTING_INFOTEXT_KEYS:
        if info.get(infotext_key) is None or setting_key not in settings.specs:
            continue
        try:
            value = _cast(settings, setting_key, info[infotext_key])
        except (InvalidRequest, ValueError):
            continue
        if value != settings.get(setting_key):
            found.append(SettingOverride(infotext_key, setting_key, value))
    return tuple(found)


def overrides_from_chips(chips: Iterable[str] | None, settings: Settings) -> dict[str, object]:
    """`override_settings` of a request from the "Override settings" chips (unknown or bad chips are left out;
    the `Checkpoint` chip gives `sd_model_checkpoint`)."""
    keys = dict(SETTING_INFOTEXT_KEYS)
    result: dict[str, object] = {}
    for chip in chips or ():
        name, _, value = str(chip).partition(":")
        name, value = name.strip(), value.strip()
        if name == CHECKPOINT_CHIP and value:
            result["sd_model_checkpoint"] = value
        elif name in keys and keys[name] in settings.specs:
            try:
                result[keys[name]] = _cast(settings, keys[name], value)
            except (InvalidRequest, ValueError):
                continue
    return result


def pasted_checkpoint(info: Mapping[str, object], settings: Settings) -> tuple[str | None, str | None] | None:
    """(`Model hash`, `Model`) to look up and use, or None when the infotext names no checkpoint or the
    `disable_weights_auto_swap` setting (default on) says not to change the checkpoint."""
    if settings.get("disable_weights_auto_swap", True):
        return None
    model_hash, model = info.get("Model hash"), info.get("Model")
    if model_hash is None and model is None:
        return None
    return (None if model_hash is None else str(model_hash)), (None if model is None else str(model))
