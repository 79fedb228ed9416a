"""Put a job's add-ons in place on the loaded model (VAE, embeddings, LoRAs) and describe them for infotext."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .addon_catalog import AddonCatalog, AddonKind
from .backend import EmbeddingReport, LoadedCheckpoint, LoraRequest
from .errors import ModelNotFound
from .extra_networks import ExtraNetworkTag, lora_selections
from .model_manager import ModelManager
from .settings import Settings
from .vae_selection import choose_vae


@dataclass(frozen=True)
class AddonOutcome:
    """Infotext fields (fixed keys and extra keys) and warnings produced by setting up add-ons."""

    fixed: dict[str, object] = field(default_factory=dict)
    extra: list[tuple[str, object]] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    timings: tuple[tuple[str, float], ...] = ()


def hash_list(pairs: list[tuple[str, str]]) -> str:
    """A1111's ``name: hash, name: hash`` value with ``:`` and ``,`` removed from names."""
    return ", ".join(f"{re.sub(r'[:,]', '', name)}: {digest}" for name, digest in pairs)


def used_names(names: list[str], texts: tuple[str, ...]) -> list[str]:
    """Embedding names that appear as words in any of ``texts``, in ``names`` order."""
    return [n for n in names if any(re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", t) for t in texts)]


class AddonSetup:
    """Sets up VAE, embeddings and LoRAs for each job; remembers the last embedding report for the API."""

    def __init__(self, *, models: ModelManager, addons: AddonCatalog, forced_vae: Path | None = None):
        self._models, self._addons, self._forced_vae = models, addons, forced_vae
        self._lock = threading.Lock()
        self._embeddings = EmbeddingReport(loaded={}, skipped={})

    @property
    def embeddings(self) -> EmbeddingReport:
        """What the last job could use (``GET /sdapi/v1/embeddings``)."""
        with self._lock:
            return self._embeddings

    def apply(self, loaded: LoadedCheckpoint, settings: Settings, texts: tuple[str, ...],
              tags: list[ExtraNetworkTag]) -> AddonOutcome:
        """Prepare ``loaded`` for prompts ``texts`` (tags already removed) and the prompt's extra-network tags."""
        clock = time.perf_counter()
        fixed, vae_warnings = self._vae(loaded, settings)
        vae_seconds, clock = time.perf_counter() - clock, time.perf_counter()
        lora_extra, lora_warnings = self._loras(loaded, settings, tags)
        lora_seconds, clock = time.perf_counter() - clock, time.perf_counter()
        extra = lora_extra + self._embeddings_for(loaded, settings, texts)
        timings = (("VAE", vae_seconds), ("LoRA", lora_seconds), ("embeddings", time.perf_counter() - clock))
        return AddonOutcome(fixed=fixed, extra=extra, warnings=(*vae_warnings, *lora_warnings), timings=timings)

    def _loras(self, loaded: LoadedCheckpoint, settings: Settings,
               tags: list[ExtraNetworkTag]) -> tuple[list[tuple[str, object]], list[str]]:
        multiplier = float(settings.get("extra_networks_default_multiplier"))
        selections, warnings = lora_selections(tags, default_multiplier=multiplier)
        requests, records = [], {}
        for chosen in selections:
            try:
                records[chosen.name] = record = self._addons.find_lora(chosen.name)
            except ModelNotFound:
                warnings.append(f"LoRA not found: {chosen.name}")
                continue
            requests.append(LoraRequest(chosen.name, record.path, chosen.te_weight, chosen.unet_weight))
        report = self._models.set_loras(loaded, requests, keep=int(settings.get("lora_in_memory_limit")))
        warnings += [f"LoRA {name} skipped: {reason}" for name, reason in report.failed.items()]
        warnings += list(report.notes)
        if not report.applied or not settings.get("lora_add_hashes_to_infotext"):
            return [], warnings
        return [("Lora hashes", hash_list([(n, self._addons.short_hash(records[n])) for n in report.applied]))], warnings

    def _vae(self, loaded: LoadedCheckpoint, settings: Settings) -> tuple[dict[str, object], tuple[str, ...]]:
        choice = choose_vae(settings, self._addons, loaded.record, forced=self._forced_vae)
        self._models.set_vae(loaded, choice.record.path if choice.record else None)
        fixed: dict[str, object] = {}
        if choice.record is not None:
            if settings.get("add_vae_hash_to_info"):
                fixed["VAE hash"] = self._addons.short_hash(choice.record)
            if settings.get("add_vae_name_to_info"):
                fixed["VAE"] = choice.record.filename
        return fixed, choice.warnings

    def _embeddings_for(self, loaded: LoadedCheckpoint, settings: Settings,
                        texts: tuple[str, ...]) -> list[tuple[str, object]]:
        self._addons.refresh(AddonKind.EMBEDDING)
        records = {r.stem: r for r in self._addons.embeddings()}
        report = self._models.set_embeddings(loaded, {name: r.path for name, r in records.items()})
        with self._lock:
            self._embeddings = report
        used = used_names(sorted(report.loaded, key=len, reverse=True), texts)
        if not used or not settings.get("textual_inversion_add_hashes_to_infotext"):
            return []
        return [("TI hashes", hash_list([(n, self._addons.short_hash(records[n])) for n in sorted(used)]))]
