"""Which VAE a job uses, in A1111's order: --vae-path, the sd_vae setting, the checkpoint's sidecar, Automatic."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .addon_catalog import AddonCatalog, AddonKind, AddonRecord
from .errors import ModelNotFound
from .model_catalog import ModelRecord
from .settings import Settings

AUTOMATIC = "Automatic"
NONE = "None"


@dataclass(frozen=True)
class VaeChoice:
    """The external VAE to use (None = the checkpoint's own) and why, plus warnings for the user."""

    record: AddonRecord | None
    source: str
    warnings: tuple[str, ...] = ()


def record_for_file(path: Path) -> AddonRecord:
    """An AddonRecord for a VAE given by path (``--vae-path``)."""
    stat = path.stat()
    return AddonRecord(kind=AddonKind.VAE, name=path.name, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def _sidecar_vae(checkpoint: ModelRecord) -> str | None:
    sidecar = checkpoint.path.with_suffix(".json")
    try:
        value = json.loads(sidecar.read_text(encoding="utf-8")).get("vae")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def _named(addons: AddonCatalog, name: str, source: str) -> VaeChoice:
    if name == NONE:
        return VaeChoice(None, source)
    try:
        return VaeChoice(addons.find_vae(name), source)
    except ModelNotFound:
        return VaeChoice(None, "checkpoint", (f"VAE {name} ({source}) not found; using the checkpoint's own VAE",))


def _automatic(addons: AddonCatalog, checkpoint: ModelRecord) -> AddonRecord | None:
    prefix = checkpoint.stem + "."
    return next((vae for vae in addons.vaes() if vae.filename.startswith(prefix)), None)


def choose_vae(settings: Settings, addons: AddonCatalog, checkpoint: ModelRecord, *,
               forced: Path | None = None) -> VaeChoice:
    """Resolve the VAE for ``checkpoint`` (A1111 ``sd_vae`` semantics)."""
    if forced is not None:
        return VaeChoice(record_for_file(forced), "--vae-path")
    setting = str(settings.get("sd_vae") or AUTOMATIC)
    if setting != AUTOMATIC and settings.get("sd_vae_overrides_per_model_preferences"):
        return _named(addons, setting, "sd_vae setting")
    preferred = _sidecar_vae(checkpoint)
    if preferred:
        return _named(addons, preferred, f"{checkpoint.path.with_suffix('.json').name}")
    automatic = _automatic(addons, checkpoint)
    if automatic is not None:
        return VaeChoice(automatic, "found beside the checkpoint")
    if setting != AUTOMATIC:
        return _named(addons, setting, "sd_vae setting")
    return VaeChoice(None, "checkpoint")
