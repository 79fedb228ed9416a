"""What is loaded: turns a checkpoint choice into Backend calls and owns the loaded model."""
from __future__ import annotations

import logging
import threading

from .backend import Backend, LoadedCheckpoint
from .errors import ModelNotFound, NoModelLoaded
from .model_catalog import ModelCatalog, ModelRecord
from .settings import SettingsStore

log = logging.getLogger(__name__)


class ModelManager:
    """Holds the one active checkpoint; a failed load leaves the previous one active."""

    def __init__(self, catalog: ModelCatalog, backend: Backend, settings: SettingsStore, *, hashing: bool = True):
        self._catalog, self._backend, self._settings = catalog, backend, settings
        self._hashing = hashing
        self._lock = threading.RLock()
        self._loaded: LoadedCheckpoint | None = None

    @property
    def loaded(self) -> LoadedCheckpoint | None:
        """The checkpoint in memory, if any."""
        return self._loaded

    def select_checkpoint(self, alias: str, *, persist: bool = True) -> LoadedCheckpoint:
        """Make ``alias`` the active checkpoint (a no-op when it already is); persist it as A1111 does."""
        record = self._catalog.find(alias)
        with self._lock:
            if self._loaded is not None and self._loaded.record.path == record.path:
                return self._loaded
            loaded = self._load(record)
            if persist:
                self._settings.update({"sd_model_checkpoint": loaded.record.title,
                                       "sd_checkpoint_hash": loaded.record.sha256 or ""})
            return loaded

    def ensure(self, alias: str | None = None) -> LoadedCheckpoint:
        """Return the checkpoint a job should use: ``alias`` (this job only) or the active/default one."""
        if alias:
            return self.select_checkpoint(alias, persist=False)
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            return self.select_checkpoint(self._default_alias())

    def unload(self) -> None:
        """Release the active checkpoint."""
        with self._lock:
            if self._loaded is not None:
                self._backend.unload(self._loaded)
                self._loaded = None

    def _default_alias(self) -> str:
        wanted = self._settings.current().get("sd_model_checkpoint")
        if wanted:
            try:
                return self._catalog.find(str(wanted)).name
            except ModelNotFound:
                log.warning("Checkpoint %s from settings not found; using the first one", wanted)
        records = self._catalog.checkpoints() or self._catalog.refresh()
        if not records:
            folders = ", ".join(str(p) for p in self._catalog.folders)
            raise NoModelLoaded(f"No checkpoint found. Put a .safetensors or .ckpt file in {folders} and refresh.")
        return records[0].name

    def _load(self, record: ModelRecord) -> LoadedCheckpoint:
        if self._hashing:
            record = self._catalog.ensure_hash(record)
        log.info("Loading weights from %s", record.path)
        loaded = self._backend.load_checkpoint(record)
        previous, self._loaded = self._loaded, loaded
        if previous is not None:
            self._backend.unload(previous)
        log.info("Model %s (%s) loaded in %.1fs on %s/%s", record.title, loaded.family.value,
                 loaded.load_seconds, loaded.device, loaded.dtype)
        return loaded

    def generate(self, loaded: LoadedCheckpoint, job, hooks) -> list:
        """Run one batch on ``loaded`` through the backend."""
        return self._backend.generate(loaded, job, hooks)
