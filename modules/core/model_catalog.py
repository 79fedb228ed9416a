"""What checkpoints exist on disk, with A1111's names, titles, aliases and lazily computed hashes."""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from .errors import ModelNotFound
from .hashes import HashCache, old_model_hash, short_hash

CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class ModelRecord:
    """One checkpoint file. ``name`` is relative to its folder with ``/`` separators, as A1111 shows it."""

    name: str
    path: Path
    size: int
    mtime_ns: int
    sha256: str | None = None

    @property
    def stem(self) -> str:
        """File name without folder and extension."""
        return self.path.stem

    @property
    def model_name(self) -> str:
        """A1111's ``model_name``: the name with ``/`` replaced by ``_`` and no extension."""
        return self.name.rsplit(".", 1)[0].replace("/", "_")

    @property
    def short_hash(self) -> str | None:
        """The 10-hex sha256 prefix, once known."""
        return short_hash(self.sha256) if self.sha256 else None

    @property
    def title(self) -> str:
        """``name [shorthash]`` once hashed, else ``name``."""
        return f"{self.name} [{self.short_hash}]" if self.sha256 else self.name

    @property
    def is_pickle(self) -> bool:
        """Whether the file is a pickle-based ``.ckpt``."""
        return self.path.suffix.lower() == ".ckpt"


def _is_checkpoint(path: Path, root: Path) -> bool:
    if path.suffix.lower() not in CHECKPOINT_SUFFIXES or not path.is_file():
        return False
    if ".vae." in path.name.lower():
        return False
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def scan_checkpoints(dirs: Iterable[Path], extra_files: Iterable[Path] = ()) -> list[ModelRecord]:
    """List checkpoint files under ``dirs`` (recursive) plus ``extra_files``, sorted by name."""
    found: dict[Path, ModelRecord] = {}
    for root in dirs:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if _is_checkpoint(path, root):
                name = path.relative_to(root).as_posix()
                found.setdefault(path.resolve(), _record(name, path))
    for path in extra_files:
        if path.is_file():
            found.setdefault(path.resolve(), _record(path.name, path))
    return sorted(found.values(), key=lambda r: r.name.lower())


def _record(name: str, path: Path) -> ModelRecord:
    stat = path.stat()
    return ModelRecord(name=name, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)


class ModelCatalog:
    """Lists checkpoints, resolves any A1111 alias to a record, and hashes files on demand."""

    def __init__(self, dirs: tuple[Path, ...], hash_cache: HashCache, *, extra_files: tuple[Path, ...] = ()):
        self._dirs, self._extra, self._hashes = dirs, extra_files, hash_cache
        self._lock = threading.Lock()
        self._records: list[ModelRecord] = []
        self.refresh()

    @property
    def folders(self) -> tuple[Path, ...]:
        """The folders scanned for checkpoints."""
        return self._dirs

    def refresh(self) -> list[ModelRecord]:
        """Rescan the folders; cached hashes are attached without reading the files."""
        records = [replace(r, sha256=self._hashes.get(r.path)) for r in scan_checkpoints(self._dirs, self._extra)]
        with self._lock:
            self._records = records
        return list(records)

    def checkpoints(self) -> list[ModelRecord]:
        """The records from the last scan."""
        with self._lock:
            return list(self._records)

    def ensure_hash(self, record: ModelRecord) -> ModelRecord:
        """Return ``record`` with its sha256, computing and caching it if needed."""
        if record.sha256:
            return record
        hashed = replace(record, sha256=self._hashes.sha256(record.path))
        with self._lock:
            self._records = [hashed if r.path == record.path else r for r in self._records]
        return hashed

    def find(self, alias: str) -> ModelRecord:
        """Resolve a title, name, stem, model_name, short/old/full hash; raise ModelNotFound otherwise."""
        records = self.checkpoints()
        wanted = alias.strip()
        for aliases in (_aliases, _old_hash_aliases):  # names first: old hashes read every file
            match = next((record for record in records if wanted in aliases(record)), None)
            if match is not None:
                return match
        by_title = sorted((r for r in records if wanted in r.title), key=lambda r: len(r.title))
        if by_title:
            return by_title[0]
        bare = wanted.rsplit(" [", 1)[0] if wanted.endswith("]") else None
        if bare:
            return self.find(bare)
        raise ModelNotFound(f"Checkpoint not found: {alias}")


def _aliases(record: ModelRecord) -> set[str]:
    names = {record.name, record.stem, record.model_name, record.title, record.path.name}
    if record.sha256:
        names |= {record.sha256, record.short_hash or "", f"{record.name} [{record.short_hash}]",
                  f"{record.stem} [{record.short_hash}]"}
    names.discard("")
    return names


def _old_hash_aliases(record: ModelRecord) -> set[str]:
    """A1111's old 8-hex hash and ``name [oldhash]``; reads 64 KiB of the file."""
    try:
        old = old_model_hash(record.path)
    except OSError:
        return set()
    return {old, f"{record.name} [{old}]"}
