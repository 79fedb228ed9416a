"""ExtensionHost: the plugin manager, what was loaded, and hook calls that isolate a failing extension."""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pluggy

from .hooks import PROJECT, CoreHooks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtensionRecord:
    """One extension as the Extensions tab shows it."""

    name: str
    path: Path | None
    version: str = ""
    description: str = ""
    enabled: bool = True
    builtin: bool = False
    enabled_by_default: bool = True
    loadable: bool = True  # False for folders that are not extensions of ours (e.g. A1111 script extensions)
    error: str | None = None  # why it failed to load, or its latest hook failure


class ExtensionHost:
    """Owns the pluggy manager (every hookspec module registered on it) and calls hooks one extension at a time,
    so one that raises is logged, recorded and skipped while the others and the job go on."""

    def __init__(self, specs: Iterable[type] = ()) -> None:
        self.manager = pluggy.PluginManager(PROJECT)
        for spec in (CoreHooks, *specs):
            self.manager.add_hookspecs(spec)
        self._records: dict[str, ExtensionRecord] = {}
        self._lock = threading.Lock()
        self._ctx: Any = None

    def add_spec(self, spec: type) -> None:
        """Register another hookspec class (the UI's and the API's, added by bootstrap)."""
        self.manager.add_hookspecs(spec)

    def register(self, plugin: object, record: ExtensionRecord) -> ExtensionRecord:
        """Register an enabled plugin (validated by pluggy against the hookspecs) or just record a disabled one."""
        if record.enabled and record.error is None:
            try:
                self.manager.register(plugin, name=record.name)
            except (pluggy.PluginValidationError, ValueError) as exc:
                record = dataclasses.replace(record, error=f"invalid hooks: {exc}")
        with self._lock:
            self._records[record.name] = record
        return record

    def records(self) -> list[ExtensionRecord]:
        """Every extension seen, built-in ones first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: (not r.builtin, r.name))

    def loaded_names(self) -> frozenset[str]:
        """Extensions whose hooks are registered."""
        return frozenset(name for name, _ in self.manager.list_name_plugin())

    def start(self, ctx: Any) -> None:
        """Bind the AppContext (hooks receive it) and call ``app_started``."""
        self._ctx = ctx
        self.each("app_started", ctx=ctx)

    def each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of `hook` in registration order: ``[(extension name, result)]``; a failing
        extension is left out (and its error recorded)."""
        caller = getattr(self.manager.hook, hook)
        results = []
        for impl in caller.get_hookimpls():  # registration order (pluggy itself calls them last-first)
            try:
                results.append((impl.plugin_name, impl.function(**{k: kwargs[k] for k in impl.argnames})))
            except Exception as exc:  # noqa: BLE001 - an extension must not break the job or the app
                self._failed(impl.plugin_name, hook, exc)
        return results

    def record_failure(self, name: str, where: str, exc: Exception) -> None:
        """Log and record an extension's failure in code the host did not call itself (e.g. a UI build)."""
        self._failed(name, where, exc)

    def _failed(self, name: str, hook: str, exc: Exception) -> None:
        log.exception("Extension %s failed in %s", name, hook)
        with self._lock:
            record = self._records.get(name)
            if record is not None:
                self._records[name] = dataclasses.replace(record, error=f"{hook}: {type(exc).__name__}: {exc}")

    # the generation flow's calls
    def transform_request(self, request):
        """The request after every ``transform_request`` hook, in order."""
        return self._chain("transform_request", "request", request, ctx=self._ctx)

    def postprocess_image(self, image, request):
        """The image after every ``postprocess_image`` hook, in order."""
        return self._chain("postprocess_image", "image", image, ctx=self._ctx, request=request)

    def extra_infotext(self, request) -> tuple[tuple[str, object], ...]:
        """Infotext fields the extensions add for this request, in extension order."""
        fields: dict[str, object] = {}
        for _, added in self.each("extra_infotext", request=request):
            fields.update(added or {})
        return tuple(fields.items())

    def after_generation(self, result) -> None:
        """Tell the extensions a job is done."""
        self.each("after_generation", ctx=self._ctx, result=result)

    def _chain(self, hook: str, key: str, value, **others):
        """Feed `value` (as argument `key`) through each implementation in turn; None keeps it."""
        caller = getattr(self.manager.hook, hook)
        for impl in caller.get_hookimpls():
            arguments = {**others, key: value}
            try:
                changed = impl.function(**{name: arguments[name] for name in impl.argnames})
            except Exception as exc:  # noqa: BLE001 - see `each`
                self._failed(impl.plugin_name, hook, exc)
                continue
            if changed is not None:
                value = changed
        return value
