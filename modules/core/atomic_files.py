"""Small JSON state files (config.json, ui-config.json): read as an object, write atomically, quarantine if corrupt."""
from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

log = logging.getLogger(__name__)


def read_json_object(path: Path) -> dict | None:
    """Return the JSON object in `path`, {} if the file is missing, None if it is unreadable or corrupt."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file next to `path`, fsync it, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def move_aside(path: Path) -> None:
    """Move a corrupt `path` to ``<its folder>/tmp/<its name>`` (A1111's place) and log a warning."""
    path = Path(path)
    target = path.parent / "tmp" / path.name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        log.warning("%s is corrupt or unreadable; moved it to %s and started with defaults", path, target)
    except OSError as exc:
        log.warning("%s is corrupt or unreadable (%s); starting with defaults", path, exc)
