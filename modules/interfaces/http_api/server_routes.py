"""``/sdapi/v1`` routes about the running server: ``cmd-flags``, ``memory``, ``extensions`` and, only with
``--api-server-stop``, ``server-kill``/``-restart``/``-stop``."""
from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path
from typing import Any, Callable

import psutil

from modules.core.context import AppContext
from modules.core.errors import SettingLocked
from modules.core.extension_folders import list_extensions
from modules.core.settings_freeze import EXPOSED_REASON
from modules.interfaces import cli
from modules.interfaces.credentials import exposed_without_login
from modules.interfaces.launch_options import LaunchOptions

Routes = list[tuple[str, str, Callable]]
MemoryProbe = Callable[[], dict[str, Any]]
ServerControl = Callable[[str], None]
SECRET_FLAGS = frozenset({"api_auth", "gradio_auth", "ngrok", "tls_keyfile", "gradio_auth_path"})
REDACTED = "<redacted>"
HIDDEN_FLAGS = frozenset({"unknown_args", "ignored_flags"})  # not A1111 flags; unknown args may hold secrets


def _plain(value: Any) -> Any:
    """A flag value as JSON: paths as strings, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def flag_values(options: LaunchOptions) -> dict[str, Any]:
    """Every launch flag by its argparse ``dest``, secrets redacted (never returned, even to an admin)."""
    values = {}
    for field in dataclasses.fields(options):
        if field.name in HIDDEN_FLAGS:
            continue
        value = getattr(options, field.name)
        values[field.name] = (REDACTED if value else value) if field.name in SECRET_FLAGS else _plain(value)
    return values


def ram_stats() -> dict[str, Any]:
    """System memory in bytes: free (available), used, total."""
    try:
        memory = psutil.virtual_memory()
    except (OSError, RuntimeError) as exc:
        return {"error": str(exc)}
    return {"free": memory.available, "used": memory.total - memory.available, "total": memory.total}


def no_cuda() -> dict[str, Any]:
    """The ``cuda`` answer when no device probe was wired in."""
    return {"error": "unavailable"}


def signal_server(command: str) -> None:
    """Default server control: SIGTERM to this process (uvicorn shuts down gracefully); no restart support."""
    os.kill(os.getpid(), signal.SIGTERM)


def server_routes(ctx: AppContext, options: LaunchOptions | None, *, cuda_memory: MemoryProbe | None = None,
                  server_control: ServerControl | None = None) -> Routes:
    """(method, path under ``/sdapi/v1``, handler); `cuda_memory` comes from bootstrap (core/interfaces never
    import torch); `options` None means the parser's defaults."""
    flags = options if options is not None else cli.parse([], {})
    probe, control = cuda_memory or no_cuda, server_control or signal_server

    def cmd_flags() -> dict[str, Any]:
        """The launch flags (secrets redacted)."""
        return flag_values(flags)

    def memory() -> dict[str, Any]:
        """RAM from psutil; CUDA from the device probe, or ``{"error": ...}`` without one."""
        try:
            cuda = probe()
        except Exception as exc:  # noqa: BLE001 - a failing probe is reported, not raised
            cuda = {"error": str(exc)}
        return {"ram": ram_stats(), "cuda": cuda}

    def extensions() -> list[dict[str, Any]]:
        """The folders of ``extensions/``."""
        disabled = ctx.settings.current().get("disabled_extensions", [])
        found = list_extensions(ctx.paths.extensions_dir, frozenset(disabled if isinstance(disabled, list) else ()),
                                all_disabled=flags.disable_all_extensions)
        return [{"name": e.name, "remote": None, "branch": None, "commit_hash": e.commit_hash,
                 "commit_date": None, "version": e.version, "enabled": e.enabled} for e in found]

    routes: Routes = [("GET", "/cmd-flags", cmd_flags), ("GET", "/memory", memory),
                      ("GET", "/extensions", extensions)]
    if flags.api_server_stop:
        exposed = exposed_without_login(flags)
        routes += [("POST", f"/server-{command}", _command(control, command, exposed))
                   for command in ("kill", "restart", "stop")]
    return routes


def _command(control: ServerControl, command: str, exposed: bool) -> Callable[[], dict]:
    def handler() -> dict:
        if exposed:  # anyone on the network could stop the server
            raise SettingLocked(f"server-{command} is disabled: {EXPOSED_REASON}")
        control(command)
        return {}
    handler.__name__ = f"server_{command}"
    handler.__doc__ = f"Ask the server to {command} (only with --api-server-stop)."
    return handler
