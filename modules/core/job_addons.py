"""Put a job's add-ons in place on the loaded model (VAE; LoRAs and embeddings) and describe them for infotext."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .addon_catalog import AddonCatalog
from .backend import LoadedCheckpoint
from .model_manager import ModelManager
from .settings import Settings
from .vae_selection import choose_vae


@dataclass(frozen=True)
class AddonOutcome:
    """Infotext fields (fixed keys and extra keys) and warnings produced by setting up add-ons."""

    fixed: dict[str, object] = field(default_factory=dict)
    extra: list[tuple[str, object]] = field(default_factory=list)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddonSetup:
    """The services add-on setup needs."""

    models: ModelManager
    addons: AddonCatalog
    forced_vae: Path | None = None

    def apply(self, loaded: LoadedCheckpoint, settings: Settings) -> AddonOutcome:
        """Select the VAE for ``loaded`` and return what the infotext should say about it."""
        choice = choose_vae(settings, self.addons, loaded.record, forced=self.forced_vae)
        self.models.set_vae(loaded, choice.record.path if choice.record else None)
        fixed: dict[str, object] = {}
        if choice.record is not None:
            if settings.get("add_vae_hash_to_info"):
                fixed["VAE hash"] = self.addons.short_hash(choice.record)
            if settings.get("add_vae_name_to_info"):
                fixed["VAE"] = choice.record.filename
        return AddonOutcome(fixed=fixed, warnings=choice.warnings)
