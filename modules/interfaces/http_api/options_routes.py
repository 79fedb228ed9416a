"""``GET``/``POST /sdapi/v1/options``: every setting, and changes that round-trip the whole dict (Open WebUI)."""
from __future__ import annotations

import datetime
import logging
from typing import Any, Callable

from fastapi import Body

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest, ModelNotFound, SettingLocked

from .body_checks import check_model_names

log = logging.getLogger(__name__)
Routes = list[tuple[str, str, Callable]]
CHECKPOINT_KEYS = ("sd_model_checkpoint", "sd_checkpoint_hash")


def options_routes(ctx: AppContext) -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for the two ``options`` routes."""

    def get_options() -> dict:
        """Every setting with its value; the model manager keeps ``sd_model_checkpoint`` (title) and
        ``sd_checkpoint_hash`` (sha256) current when it switches."""
        return ctx.settings.current().as_dict()

    def set_options(changes: dict[str, Any] = Body(...)) -> None:
        """Apply the keys that differ; unknown keys are ignored; answer ``null`` after a model switch finished."""
        if not isinstance(changes, dict):
            raise InvalidRequest("options: expected a JSON object of setting keys and values")
        current = ctx.settings.current()
        known = current.as_dict()
        unknown = sorted(k for k in changes if k not in known)
        if unknown:
            log.warning("POST /options: ignoring unknown setting keys %s", ", ".join(unknown))
        settable = {k: v for k, v in changes.items() if k in known and k not in CHECKPOINT_KEYS}
        if settable.get("sd_vae") != current.get("sd_vae"):
            check_model_names(ctx, settable)
        wanted = changes.get("sd_model_checkpoint")
        if wanted is not None and not isinstance(wanted, str):
            raise InvalidRequest(f"sd_model_checkpoint: expected a checkpoint title, name or hash, got {wanted!r}")
        if wanted and not _is_current(ctx, wanted):
            ctx.catalog.find(wanted)  # an unknown name fails before anything changes
            ctx.settings.current().with_overrides(settable)  # so do refused or invalid keys
            _refuse_frozen(ctx, {"sd_model_checkpoint": wanted, **settable})  # and frozen ones
            with ctx.generation.work_lock:
                _switch_checkpoint(ctx, wanted)
        ctx.settings.update(settable, from_api=True)
        return None

    return [("GET", "/options", get_options), ("POST", "/options", set_options)]


def _refuse_frozen(ctx: AppContext, changes: dict[str, Any]) -> None:
    """Raise SettingLocked for the first changed key a freeze flag makes read-only."""
    current = ctx.settings.current()
    for key, value in changes.items():
        reason = ctx.settings.frozen_reason(key)
        if reason and current.get(key, None) != value:
            raise SettingLocked(f"{key}: not possible to change it because {reason}")


def _switch_checkpoint(ctx: AppContext, wanted: str) -> None:
    """Load `wanted`, shown by ``/progress`` as a job while it loads (clients poll for idle afterwards)."""
    ctx.progress.begin("Load checkpoint", job_count=1, timestamp=datetime.datetime.now().strftime("%Y%m%d%H%M%S"))
    try:
        ctx.models.select_checkpoint(wanted)
    finally:
        ctx.progress.finish()


def _is_current(ctx: AppContext, wanted: str) -> bool:
    """Whether `wanted` names the checkpoint already loaded (or configured, when none is loaded yet)."""
    loaded = ctx.models.loaded
    configured = ctx.settings.current().get("sd_model_checkpoint")
    if loaded is None:
        return wanted == configured
    try:
        return ctx.catalog.find(wanted).path == loaded.record.path
    except ModelNotFound:  # reported by the caller's own find()
        return False
