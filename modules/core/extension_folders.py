"""The folders under ``extensions/`` as a listing (name, version, git commit), read with the stdlib only."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
_VERSION = re.compile(r'^version\s*=\s*["\']([^"\'\n]*)["\']', re.MULTILINE)


@dataclass(frozen=True)
class ExtensionFolder:
    """One extension folder: its name, ``extension.toml`` version, checked-out commit and enabled flag."""

    name: str
    version: str
    commit_hash: str
    enabled: bool


def git_head(folder: Path) -> str:
    """The commit a git checkout is on (``HEAD``, a loose ref or ``packed-refs``), or ``""``.

    Reads files only: no ``git`` process and no network.
    """
    git = folder / ".git"
    try:
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:].strip()
        loose = git / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip()
        for line in (git / "packed-refs").read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref:
                return parts[0]
    except (OSError, UnicodeDecodeError):
        pass
    return ""


def manifest_version(folder: Path) -> str:
    """The top-level ``version = "..."`` of ``extension.toml``, or ``""`` when there is none or it is unreadable."""
    try:
        text = (folder / "extension.toml").read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("Unreadable %s: %s", folder / "extension.toml", exc)
        return ""
    top_level = text.split("\n[", 1)[0]  # keys before the first table header
    match = _VERSION.search(top_level)
    return match[1] if match else ""


def list_extensions(root: Path, disabled: frozenset[str] = frozenset(), *,
                    all_disabled: bool = False) -> list[ExtensionFolder]:
    """Every non-hidden folder of `root`, by name; `disabled` names (or `all_disabled`) are not enabled."""
    if not root.is_dir():
        return []
    folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    result = []
    for folder in folders:
        commit = git_head(folder)
        result.append(ExtensionFolder(name=folder.name, version=manifest_version(folder) or commit[:8],
                                      commit_hash=commit, enabled=not all_disabled and folder.name not in disabled))
    return result
