"""StyleStore: the styles of one or more A1111 `styles.csv` files, loaded, looked up, applied and saved."""
from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import InvalidRequest
from .styles import PromptStyle, apply_styles, extract_styles

log = logging.getLogger(__name__)
COLUMNS = ("name", "prompt", "negative_prompt")


@dataclass(frozen=True)
class _StyleFile:
    """One CSV as read: its header and every row (comments, blank names and extra columns included)."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[dict, ...]
    readable: bool = True


def _style_of(row: dict) -> PromptStyle | None:
    """The style a row defines, or None for comment/divider rows (`#` names) and rows without a name."""
    name = row.get("name") or ""
    if not name or name.startswith("#"):
        return None
    prompt = row.get("prompt") if "prompt" in row else row.get("text")  # the old `name,text` format
    return PromptStyle(name, prompt or "", row.get("negative_prompt") or "")


def read_style_file(path: Path) -> _StyleFile:
    """Read one CSV (UTF-8 with or without BOM, spaces after commas skipped); a broken file gives no styles."""
    if not path.is_file():
        return _StyleFile(path, COLUMNS, ())
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream, skipinitialspace=True)
            rows = tuple(dict(row) for row in reader)
            return _StyleFile(path, tuple(reader.fieldnames or COLUMNS), rows)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("Could not read styles from %s: %s", path, exc)
        return _StyleFile(path, COLUMNS, (), readable=False)


def _expand(pattern: Path) -> list[Path]:
    """A1111's `--styles-file`: a `*` in the file name loads every matching `.csv` in that folder."""
    if "*" not in pattern.name:
        return [pattern]
    glob = pattern.name.split("*")[0] + "*.csv"
    return sorted(p for p in pattern.parent.glob(glob) if p.is_file())


def default_file(pattern: Path) -> Path:
    """Where new styles go for a configured path: the path itself, or `<prefix>.csv` for a wildcard."""
    if "*" not in pattern.name:
        return pattern
    stem = pattern.name.split("*")[0]
    return pattern.parent / (f"{stem}.csv" if stem else "styles.csv")


def _csv_bytes(header: Sequence[str], rows: Sequence[dict]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _write_with_backup(path: Path, data: bytes) -> None:
    """Write a temp file, keep the old file as `<name>.bak` (as A1111), then replace it in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temp, "xb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _row_for(style: PromptStyle, old: dict | None) -> dict:
    row = dict(old or {})
    row.pop("text", None)
    row.update(name=style.name, prompt=style.prompt, negative_prompt=style.negative_prompt)
    return row


class StyleStore:
    """Owns the styles files: loads them, answers lookups, applies and extracts styles, saves edits atomically."""

    def __init__(self, files: Sequence[Path]):
        self._patterns = tuple(Path(f) for f in files) or (Path("styles.csv"),)
        self._lock = threading.RLock()  # save/delete re-read the files while still holding it
        self._files: tuple[_StyleFile, ...] = ()
        self._styles: dict[str, PromptStyle] = {}
        self.reload()

    @property
    def default_path(self) -> Path:
        """The file new styles are saved to (A1111: the first `--styles-file`, default `styles.csv`)."""
        return default_file(self._patterns[0])

    def reload(self) -> None:
        """Read every styles file again; a later file's style replaces an earlier one of the same name."""
        paths = list(dict.fromkeys(p for pattern in self._patterns for p in _expand(pattern)))
        files = tuple(read_style_file(p) for p in paths)
        styles = {s.name: s for f in files for s in map(_style_of, f.rows) if s is not None}
        with self._lock:
            self._files, self._styles = files, styles

    def styles(self) -> tuple[PromptStyle, ...]:
        """Every style in file order."""
        with self._lock:
            return tuple(self._styles.values())

    def get(self, name: str) -> PromptStyle | None:
        """The style with this exact name, or None."""
        with self._lock:
            return self._styles.get(name)

    def apply(self, prompt: str, negative_prompt: str, names: Sequence[str]) -> tuple[str, str]:
        """Apply the named styles in order; unknown names are skipped silently, as A1111 does."""
        with self._lock:
            chosen = [self._styles[n] for n in names if n in self._styles]
        return apply_styles(prompt, negative_prompt, chosen)

    def extract(self, prompt: str, negative_prompt: str) -> tuple[tuple[str, ...], str, str]:
        """Names of the styles found wrapping both prompts, and the prompts without them (see `extract_styles`)."""
        return extract_styles(prompt, negative_prompt, self.styles())

    def save_style(self, style: PromptStyle) -> None:
        """Add a style, or replace the one with the same name in the file it came from, and write that file."""
        if not style.name.strip() or style.name.startswith("#"):
            raise InvalidRequest(f"Invalid style name: {style.name!r}")
        with self._lock:
            target = self._file_holding(style.name) or self._file_for(self.default_path)
            rows, replaced = [], False
            for row in target.rows:
                if not replaced and _style_of(row) is not None and row.get("name") == style.name:
                    rows.append(_row_for(style, row))
                    replaced = True
                else:
                    rows.append(row)
            if not replaced:
                rows.append(_row_for(style, None))
            self._write(target, rows)
            self.reload()

    def delete_style(self, name: str) -> None:
        """Remove a style from its file (other rows, comments included, are written back unchanged)."""
        with self._lock:
            target = self._file_holding(name)
            if target is None:
                return
            self._write(target, [r for r in target.rows if _style_of(r) is None or r.get("name") != name])
            self.reload()

    def _file_holding(self, name: str) -> _StyleFile | None:
        for style_file in reversed(self._files):  # the last definition is the one in effect
            if any(_style_of(r) is not None and r.get("name") == name for r in style_file.rows):
                return style_file
        return None

    def _file_for(self, path: Path) -> _StyleFile:
        return next((f for f in self._files if f.path == path), None) or read_style_file(path)

    @staticmethod
    def _write(style_file: _StyleFile, rows: list[dict]) -> None:
        if not style_file.readable:
            raise InvalidRequest(f"{style_file.path} could not be read, so it is not overwritten")
        extra = [c for c in style_file.header if c not in COLUMNS and c != "text" and c]
        _write_with_backup(style_file.path, _csv_bytes([*COLUMNS, *extra], rows))
