"""What VAEs, LoRAs and embeddings exist on disk, with A1111's names, aliases, metadata and lazily computed hashes."""
from __future__ import annotations

import copy
import json
import logging
import os
import threading
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import ModelNotFound, UnsupportedModel, WebUIError
from .hashes import HashCache, addnet_hash
from .safetensors_header import read_raw_header
from .paths import Paths

log = logging.getLogger(__name__)

VAE_SUFFIXES = (".safetensors", ".ckpt", ".pt")
CHECKPOINT_VAE_SUFFIXES = (".vae.safetensors", ".vae.ckpt", ".vae.pt")
LORA_SUFFIXES = (".safetensors", ".ckpt", ".pt")
EMBEDDING_SUFFIXES = (".safetensors", ".pt", ".bin")


class AddonKind(str, Enum):
    """The kinds of add-on model files the catalog lists."""

    VAE = "vae"
    LORA = "lora"
    EMBEDDING = "embedding"


@dataclass(frozen=True)
class AddonRecord:
    """One add-on file. ``name`` is relative to its folder with ``/`` separators, as A1111 shows it."""

    kind: AddonKind
    name: str
    path: Path
    size: int
    mtime_ns: int
    output_name: str | None = None

    @property
    def stem(self) -> str:
        """File name without folder and (last) extension."""
        return self.path.stem

    @property
    def filename(self) -> str:
        """File name with extension, without folder."""
        return self.path.name

    @property
    def alias(self) -> str:
        """A1111's LoRA alias: ``ss_output_name`` from the file's metadata when present, else the stem."""
        return self.output_name or self.stem

    @property
    def is_safetensors(self) -> bool:
        """Whether the file is ``.safetensors`` (the only format whose header is read)."""
        return self.path.suffix.lower() == ".safetensors"


def _walk(root: Path, accept: Callable[[str], bool]) -> Iterator[tuple[str, Path, os.stat_result]]:
    """Yield (relative name, path, stat) of non-hidden accepted files under ``root``; follows symlinks, never loops."""
    seen: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            stat = folder.stat()
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    stack.append((Path(entry.path), f"{prefix}{entry.name}/"))
                elif accept(entry.name.lower()) and entry.is_file():
                    yield prefix + entry.name, Path(entry.path), entry.stat()
            except OSError:
                continue


def _scan(kind: AddonKind, folders: Iterable[tuple[Path, Callable[[str], bool]]]) -> list[AddonRecord]:
    """List the files each folder's filter accepts, once per real file, sorted by name case-insensitively."""
    found: dict[tuple[int, int], AddonRecord] = {}
    for root, accept in folders:
        for name, path, stat in _walk(root, accept):
            if stat.st_size or kind is not AddonKind.EMBEDDING:
                record = AddonRecord(kind, name, path, stat.st_size, stat.st_mtime_ns)
                found.setdefault((stat.st_dev, stat.st_ino), record)
    return sorted(found.values(), key=lambda r: r.name.lower())


def _folders(paths: Paths, kind: AddonKind) -> list[tuple[Path, Callable[[str], bool]]]:
    """Return (folder, accepts lower-case file name) pairs to scan for ``kind``."""
    if kind is AddonKind.VAE:
        return ([(d, lambda n: n.endswith(VAE_SUFFIXES)) for d in paths.vae_dirs]
                + [(d, lambda n: n.endswith(CHECKPOINT_VAE_SUFFIXES)) for d in paths.ckpt_dirs])
    if kind is AddonKind.LORA:
        return [(d, lambda n: n.endswith(LORA_SUFFIXES)) for d in paths.lora_dirs]
    return [(paths.embeddings_dir, lambda n: n.endswith(EMBEDDING_SUFFIXES) and ".preview." not in n)]


def _decode_metadata(raw: dict) -> dict:
    """Return safetensors ``__metadata__`` with JSON-object strings decoded as A1111 does, as fresh objects.

    >>> _decode_metadata({"a": '{"x": 1}', "b": "{broken", "c": "7", "d": [1]})
    {'a': {'x': 1}, 'b': '{broken', 'c': '7', 'd': [1]}
    """
    return {key: _decode_value(value) for key, value in raw.items()}


def _decode_value(value: object) -> object:
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value if isinstance(value, str) else copy.deepcopy(value)


def _read_raw_metadata(path: Path) -> dict:
    try:
        metadata = read_raw_header(path).get("__metadata__")
    except UnsupportedModel as exc:
        log.warning("Cannot read metadata of %s: %s", path, exc)
        metadata = None
    return metadata if isinstance(metadata, dict) else {}


def _first(records: list[AddonRecord], name: str, *keys: Callable[[AddonRecord], str]) -> AddonRecord | None:
    """Return the first record whose key equals ``name``, trying each key over all records before the next."""
    return next((r for key in keys for r in records if key(r) == name), None)


class AddonCatalog:
    """Lists VAEs, LoRAs and embeddings, resolves A1111 names, reads metadata and hashes files on demand."""

    def __init__(self, paths: Paths, hash_cache: HashCache, *, addnet_cache: HashCache | None = None):
        self._paths, self._hashes = paths, hash_cache
        self._addnet = addnet_cache or HashCache(paths.cache_dir / "hashes-addnet.json")
        self._lock = threading.Lock()
        self._records: dict[AddonKind, list[AddonRecord]] = {kind: [] for kind in AddonKind}
        self._named_loras: list[AddonRecord] | None = None
        self._metadata: dict[tuple[str, int, int], dict] = {}
        self._worker: threading.Thread | None = None
        self._stop_event = threading.Event()
        self.refresh()

    def refresh(self, kind: AddonKind | None = None) -> None:
        """Rescan the folders of one kind (all kinds when None); reads directory entries only."""
        for each in (kind,) if kind is not None else tuple(AddonKind):
            records = _scan(each, _folders(self._paths, each))
            with self._lock:
                self._records[each] = records
                if each is AddonKind.LORA:
                    self._named_loras = None
                live = {str(r.path) for kept in self._records.values() for r in kept}
                self._metadata = {k: v for k, v in self._metadata.items() if k[0] in live}

    def vaes(self) -> list[AddonRecord]:
        """The VAE records from the last scan."""
        return self._list(AddonKind.VAE)

    def loras(self) -> list[AddonRecord]:
        """The LoRA records from the last scan, with aliases (safetensors headers are read once, then cached)."""
        with self._lock:
            records, named = self._records[AddonKind.LORA], self._named_loras
        if named is not None:
            return list(named)
        named = [replace(r, output_name=self._output_name(r)) for r in records]
        with self._lock:
            if self._records[AddonKind.LORA] is records:
                self._named_loras = named
        return list(named)

    def embeddings(self) -> list[AddonRecord]:
        """The embedding records from the last scan."""
        return self._list(AddonKind.EMBEDDING)

    def find_vae(self, name: str) -> AddonRecord:
        """Resolve a VAE by relative name, file name with extension or stem; raise ModelNotFound otherwise."""
        found = _first(self.vaes(), name, lambda r: r.name, lambda r: r.filename, lambda r: r.stem)
        if found is None:
            raise ModelNotFound(f"VAE not found: {name}")
        return found

    def find_lora(self, name: str) -> AddonRecord:
        """Resolve a LoRA by file stem, else by a unique alias; raise ModelNotFound otherwise."""
        records = self.loras()
        aliased = [r for r in records if r.alias == name]
        found = _first(records, name, lambda r: r.stem) or (aliased[0] if len(aliased) == 1 else None)
        if found is not None:
            return found
        if aliased:
            raise ModelNotFound(f"LoRA alias {name} is ambiguous ({', '.join(r.name for r in aliased)}); use its file")
        raise ModelNotFound(f"LoRA not found: {name}")

    def find_embedding(self, name: str) -> AddonRecord:
        """Resolve an embedding by file stem; raise ModelNotFound otherwise."""
        found = _first(self.embeddings(), name, lambda r: r.stem)
        if found is None:
            raise ModelNotFound(f"Embedding not found: {name}")
        return found

    def metadata(self, record: AddonRecord) -> dict:
        """The safetensors ``__metadata__`` of ``record`` (JSON objects decoded); ``{}`` for other formats."""
        return _decode_metadata(self._raw_metadata(record))

    def _raw_metadata(self, record: AddonRecord) -> dict:
        if not record.is_safetensors:
            return {}
        try:
            stat = os.stat(record.path)
        except OSError:
            return {}
        key = (str(record.path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            raw = self._metadata.get(key)
        if raw is None:
            raw = _read_raw_metadata(record.path)
            with self._lock:
                self._metadata[key] = raw
        return raw

    def short_hash(self, record: AddonRecord) -> str:
        """A1111's short hash (VAE 10 hex, LoRA and embedding 12), computed on first use and cached on disk."""
        try:
            full = self._lora_hash(record) if record.kind is AddonKind.LORA else self._hashes.sha256(record.path)
        except FileNotFoundError as exc:
            raise ModelNotFound(f"{record.kind.value} file is gone: {record.name}") from exc
        return full[:10] if record.kind is AddonKind.VAE else full[:12]

    def start_background_hashing(self, kinds: Iterable[AddonKind] = tuple(AddonKind)) -> threading.Thread:
        """Hash every listed file not hashed yet in a daemon thread; returns the running thread (one at a time)."""
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                return self._worker
            self._stop_event = threading.Event()
            self._worker = threading.Thread(target=self._hash_all, args=(tuple(kinds), self._stop_event),
                                            name="addon-hashing", daemon=True)
            self._worker.start()
            return self._worker

    def stop(self, timeout: float | None = None) -> None:
        """Ask the background hashing to stop after the current file and wait up to ``timeout`` seconds."""
        with self._lock:
            worker = self._worker
            self._stop_event.set()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def _list(self, kind: AddonKind) -> list[AddonRecord]:
        with self._lock:
            return list(self._records[kind])

    def _output_name(self, record: AddonRecord) -> str | None:
        value = self._raw_metadata(record).get("ss_output_name")
        return value if isinstance(value, str) and value else None

    def _lora_hash(self, record: AddonRecord) -> str:
        value = self._raw_metadata(record).get("sshs_model_hash")
        if isinstance(value, str) and value:
            return value
        if record.is_safetensors:
            return self._addnet_hash(record.path)
        return self._hashes.sha256(record.path)

    def _addnet_hash(self, path: Path) -> str:
        cached = self._addnet.get(path)
        if cached is not None:
            return cached
        before = os.stat(path)
        value = addnet_hash(path)
        after = os.stat(path)
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
            self._addnet.put(path, value)
        return value

    def _hash_all(self, kinds: tuple[AddonKind, ...], stop: threading.Event) -> None:
        for kind in kinds:
            for record in self._list(kind):
                if stop.is_set():
                    return
                try:
                    self.short_hash(record)
                except (OSError, WebUIError) as exc:
                    log.warning("Could not hash %s %s: %s", kind.value, record.name, exc)
