"""What is loaded: turns a checkpoint choice into Backend calls and owns every loaded model."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

from .backend import Backend, EmbeddingReport, LoadedCheckpoint, LoraReport, LoraRequest
from .errors import ModelNotFound, NoModelLoaded
from .model_catalog import ModelCatalog, ModelRecord
from .settings import SettingsStore

log = logging.getLogger(__name__)

LOAD_OVERHEAD = 1.5
"""While loading, the file's tensors and the built model coexist: reserve 1.5x the model's size."""
HEADROOM = 1 << 30
"""RAM left for sampling and the rest of the process."""


class ModelManager:
    """Keeps up to ``sd_checkpoints_limit`` checkpoints, least recently used evicted; one is active.

    A failed load leaves the previous model active. Switching to a cached model only moves it to the device.
    """

    def __init__(self, catalog: ModelCatalog, backend: Backend, settings: SettingsStore, *, hashing: bool = True):
        self._catalog, self._backend, self._settings = catalog, backend, settings
        self._hashing = hashing
        self._lock = threading.RLock()
        self._cache: OrderedDict[Path, LoadedCheckpoint] = OrderedDict()
        self._active: Path | None = None
        self._borrowed = False  # the active model is one job's override, not the configured checkpoint
        self.last_switch_seconds = 0.0

    @property
    def loaded(self) -> LoadedCheckpoint | None:
        """The active checkpoint, if any."""
        with self._lock:
            return self._cache.get(self._active) if self._active else None

    def active_nowait(self) -> LoadedCheckpoint | None:
        """The active checkpoint without waiting: None while none is loaded or a load/switch is under way."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self.loaded
        finally:
            self._lock.release()

    def cached(self) -> list[LoadedCheckpoint]:
        """Every checkpoint in memory, least recently used first."""
        with self._lock:
            return list(self._cache.values())

    def select_checkpoint(self, alias: str, *, persist: bool = True) -> LoadedCheckpoint:
        """Make ``alias`` the active checkpoint (a no-op when it already is); persist it as A1111 does."""
        record = self._catalog.find(alias)
        with self._lock:
            started = time.perf_counter()
            cached = record.path.resolve() in self._cache
            loaded = self._activate(record)
            self.last_switch_seconds = time.perf_counter() - started
            if cached:
                log.info("Switched to %s in %.2fs (cached)", loaded.record.name, self.last_switch_seconds)
            if persist:
                self._settings.update({"sd_model_checkpoint": loaded.record.title,
                                       "sd_checkpoint_hash": loaded.record.sha256 or ""})
            self._borrowed = not persist
            return loaded

    def ensure(self, alias: str | None = None) -> LoadedCheckpoint:
        """Return the checkpoint a job should use: ``alias`` (this job only) or the active/default one; after a
        job's override the configured checkpoint comes back (A1111's ``override_settings_restore_afterwards``)."""
        if alias:
            return self.select_checkpoint(alias, persist=False)
        with self._lock:
            loaded = self.loaded
            if loaded is not None and not self._borrowed:
                return loaded
            return self.select_checkpoint(self._default_alias())

    def unload(self) -> None:
        """Release every checkpoint in memory."""
        with self._lock:
            while self._cache:
                _, loaded = self._cache.popitem(last=False)
                self._backend.unload(loaded)
            self._active = None

    def set_vae(self, loaded: LoadedCheckpoint, path: Path | None) -> None:
        """Decode ``loaded``'s jobs with the VAE file at ``path``, or its own VAE when None."""
        self._backend.set_vae(loaded, path)

    def set_embeddings(self, loaded: LoadedCheckpoint, files: dict[str, Path]) -> EmbeddingReport:
        """Make these embeddings available to ``loaded``'s prompts."""
        return self._backend.set_embeddings(loaded, files)

    def set_loras(self, loaded: LoadedCheckpoint, loras: list[LoraRequest], *, keep: int) -> LoraReport:
        """Activate exactly ``loras`` on ``loaded``."""
        return self._backend.set_loras(loaded, loras, keep=keep)

    def count_tokens(self, loaded: LoadedCheckpoint, text: str, *, parse_emphasis: bool = True) -> tuple[int, int]:
        """(tokens, capacity) of ``text`` with ``loaded``'s tokenizer."""
        return self._backend.count_tokens(loaded, text, parse_emphasis=parse_emphasis)

    def generate(self, loaded: LoadedCheckpoint, job, hooks) -> list:
        """Run one batch on ``loaded`` through the backend."""
        return self._backend.generate(loaded, job, hooks)

    def _activate(self, record: ModelRecord) -> LoadedCheckpoint:
        key = record.path.resolve()
        if key == self._active:
            return self._cache[key]
        if key not in self._cache and not record.path.is_file():
            raise ModelNotFound(f"{record.name}: the file is gone (deleted or moved since the list was read); "
                                "refresh the checkpoint list")
        previous = self.loaded
        if previous is not None:
            self._backend.park(previous)  # free the device before a load, so only one model sits there
        try:
            if key not in self._cache:
                self._make_room(record, protect=self._active)
            loaded = self._cache.get(key) or self._load(record)
            self._backend.activate(loaded)
        except BaseException:
            if previous is not None:
                self._backend.activate(previous)
            raise
        self._cache[key] = loaded
        self._cache.move_to_end(key)
        self._active = key
        self._evict()
        return loaded

    def _evict(self) -> None:
        limit = max(1, int(self._settings.current().get("sd_checkpoints_limit")))
        while len(self._cache) > limit:
            key, loaded = next(iter(self._cache.items()))
            if key == self._active:
                break
            del self._cache[key]
            self._backend.unload(loaded)
            log.info("Unloaded %s (checkpoint cache limit %d)", loaded.record.name, limit)

    def _make_room(self, record: ModelRecord, *, protect: Path | None) -> None:
        """Evict least recently used cached models (never ``protect``, the fallback if this load fails) until
        the new model fits in available RAM: the count limit alone would let big models exhaust memory."""
        need = int(self._backend.memory_needed(record) * LOAD_OVERHEAD) + HEADROOM
        while True:
            free = self._backend.memory_available()
            victims = [k for k in self._cache if k != protect]
            if free is None or free >= need or not victims:
                return
            loaded = self._cache.pop(victims[0])
            self._backend.unload(loaded)
            log.info("Unloaded %s to make room for %s (needs ~%.1f GB, %.1f GB available)",
                     loaded.record.name, record.name, need / 2**30, free / 2**30)

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
        log.info("Model %s (%s) loaded in %.1fs on %s/%s", record.title, loaded.family.value,
                 loaded.load_seconds, loaded.device, loaded.dtype)
        return loaded
