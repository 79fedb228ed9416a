"""Model hashes as A1111 shows them (sha256, old 8-hex, addnet), a stdlib safetensors header reader and a hash cache."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from modules.core.errors import UnsupportedModel
from modules.core.safetensors_header import header_length

log = logging.getLogger(__name__)

_OLD_HASH_OFFSET = 0x100000
_OLD_HASH_SIZE = 0x10000
_CACHE_VERSION = 1


def _sha256_stream(stream: BinaryIO, chunk: int) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(chunk), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Return the sha256 of a whole file as 64 lowercase hex digits."""
    with open(path, "rb") as stream:
        return _sha256_stream(stream, chunk)


def short_hash(sha256: str) -> str:
    """Return the 10-hex short form shown as `Model hash` and in titles.

    >>> short_hash("6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa")
    '6ce0161689'
    """
    return sha256[:10]


def old_model_hash(path: Path) -> str:
    """Return A1111's old 8-hex hash (sha256 of 64 KiB at offset 1 MiB), or "NOFILE" if the file is missing."""
    try:
        with open(path, "rb") as stream:
            stream.seek(_OLD_HASH_OFFSET)
            return hashlib.sha256(stream.read(_OLD_HASH_SIZE)).hexdigest()[:8]
    except FileNotFoundError:
        return "NOFILE"


def safetensors_shapes(header: dict) -> dict[str, tuple[int, ...]]:
    """Return tensor name -> shape from a safetensors header, skipping `__metadata__`.

    >>> safetensors_shapes({"__metadata__": {}, "w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]}})
    {'w': (2, 3)}
    """
    shapes: dict[str, tuple[int, ...]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            raise UnsupportedModel(f"safetensors header entry {name!r} has no valid shape")
        shapes[name] = tuple(shape)
    return shapes


def addnet_hash(path: Path) -> str:
    """Return the addnet hash of a safetensors file: sha256 of the bytes after the length field and the header."""
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        length = header_length(stream, path, size, max_header=size)
        stream.seek(8 + length)
        return _sha256_stream(stream, 1 << 20)


class HashCache:
    """sha256 values cached in a JSON file, reused while a file's size and mtime_ns are unchanged; thread-safe."""

    def __init__(self, path: Path):
        self._path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, dict] | None = None

    def get(self, file: Path) -> str | None:
        """Return the cached sha256 of `file` if its size and mtime still match, else None."""
        stat = _stat(file)
        if stat is None:
            return None
        with self._lock:
            entry = self._load().get(_key(file))
        if not isinstance(entry, dict) or [entry.get("size"), entry.get("mtime_ns")] != list(stat):
            return None
        value = entry.get("sha256")
        return value if isinstance(value, str) and len(value) == 64 else None

    def put(self, file: Path, sha256: str) -> None:
        """Store the sha256 of `file` with its current size and mtime, and persist the cache atomically."""
        stat = _stat(file)
        if stat is None:
            return
        self._store(file, stat, sha256)

    def sha256(self, file: Path) -> str:
        """Return the sha256 of `file`, from the cache or computed (and then cached)."""
        cached = self.get(file)
        if cached is not None:
            return cached
        before = _stat(file)
        value = sha256_file(file)
        if before is not None and _stat(file) == before:
            self._store(file, before, value)
        return value

    def _store(self, file: Path, stat: tuple[int, int], sha256: str) -> None:
        with self._lock:
            entries = self._load()
            entries[_key(file)] = {"size": stat[0], "mtime_ns": stat[1], "sha256": sha256}
            try:
                _write_json_atomic(self._path, {"version": _CACHE_VERSION, "entries": entries})
            except OSError as exc:
                log.warning("Could not write hash cache %s: %s", self._path, exc)

    def _load(self) -> dict[str, dict]:
        if self._entries is None:
            self._entries = _read_entries(self._path)
        return self._entries


def _key(file: Path) -> str:
    return str(Path(file).resolve())


def _stat(file: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _read_entries(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as exc:
        log.warning("Ignoring unreadable hash cache %s: %s", path, exc)
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        log.warning("Ignoring hash cache %s with an unexpected layout", path)
        return {}
    return entries


def _write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, ensure_ascii=False)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
