"""Discover ``extensions/<name>/extension.py`` (+ ``extension.toml``), import each in isolation and register the
enabled ones with the `ExtensionHost`. A folder that fails to import is listed with its error; the app goes on.

Nothing is installed or downloaded here: an extension's ``requirements.txt`` is the user's to install.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import logging
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from modules.core.extensions import ExtensionHost, ExtensionRecord

log = logging.getLogger(__name__)
API_VERSION = 1
_MODULE_PREFIX = "webui_extensions"


@dataclass(frozen=True)
class ExtensionChoices:
    """Which extensions to load: the user's lists (settings) and the launch flags."""

    enabled: frozenset[str] = frozenset()  # extensions that are off by default, switched on
    disabled: frozenset[str] = frozenset()  # A1111's ``disabled_extensions``
    disable_all: bool = False  # --disable-all-extensions / --disable-extra-extensions


def load_extensions(host: ExtensionHost, root: Path, choices: ExtensionChoices) -> list[ExtensionRecord]:
    """Load every extension folder under `root`, in name order."""
    if not root.is_dir():
        return []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [_load(host, folder, choices) for folder in folders]


def _load(host: ExtensionHost, folder: Path, choices: ExtensionChoices) -> ExtensionRecord:
    name = folder.name
    entry = folder / "extension.py"
    if not entry.is_file():
        reason = ("an AUTOMATIC1111 script extension (scripts/ folder): not supported"
                  if (folder / "scripts").is_dir() else "no extension.py")
        return host.register(None, ExtensionRecord(name, folder, enabled=False, error=reason, loadable=False))
    try:
        manifest = tomllib.loads((folder / "extension.toml").read_text("utf-8")) \
            if (folder / "extension.toml").is_file() else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return host.register(None, ExtensionRecord(name, folder, enabled=False, error=f"extension.toml: {exc}"))
    default_on = bool(manifest.get("enabled_by_default", True))
    enabled = not choices.disable_all and (name in choices.enabled or (default_on and name not in choices.disabled))
    record = ExtensionRecord(name, folder, version=str(manifest.get("version", "")),
                             description=str(manifest.get("description", "")), enabled=enabled,
                             enabled_by_default=default_on)
    if not enabled:
        return host.register(None, record)
    if manifest.get("api", API_VERSION) != API_VERSION:
        return host.register(None, dataclasses.replace(record, error=(
            f"needs extension API {manifest.get('api')}; this version offers {API_VERSION}")))
    try:
        module = _import(name, entry)
    except Exception as exc:  # noqa: BLE001 - a broken extension is reported, never fatal
        log.exception("Extension %s failed to load", name)
        return host.register(None, dataclasses.replace(record, error=f"import failed: {type(exc).__name__}: {exc}"))
    registered = host.register(module, record)
    log.info("Extension %s %s", name, "loaded" if registered.error is None else f"failed: {registered.error}")
    return registered


def _import(name: str, entry: Path):
    """Import ``extension.py`` as its own module (``webui_extensions.<name>``)."""
    module_name = f"{_MODULE_PREFIX}.{re.sub(r'[^0-9A-Za-z_]', '_', name)}"
    spec = importlib.util.spec_from_file_location(module_name, entry)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {entry}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module
