"""Run a script's cells inside one queued job: progress over all cells, stop when interrupted, and put back the
checkpoint a checkpoint axis switched away from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Hashable, Sequence, TypeVar

from ..params import GenerationRequest
from ..results import GenerationResult
from .base import ScriptServices

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class CellRun(Generic[K]):
    """``make(key)`` builds the request of the cell ``key``; cells run in ``indexes`` order."""

    make: Callable[[K], GenerationRequest]
    indexes: Sequence[K]
    restore_model: bool = False
    kind: str = "script"


@dataclass(frozen=True)
class Cells(Generic[K]):
    """Each finished cell's result by key; ``interrupted`` when the job was stopped before the last cell."""

    results: dict
    interrupted: bool = False


def run_cells(services: ScriptServices, run: CellRun) -> Cells:
    """Generate every cell in one turn of the job queue (turns nest, so each cell joins this job)."""
    results: dict = {}
    with services.jobs.turn(run.kind):
        before = services.models.loaded
        try:
            for number, key in enumerate(run.indexes):
                if services.cancelled():
                    return Cells(results, interrupted=True)
                services.progress.set_cell(number, len(run.indexes))
                results[key] = services.generate(run.make(key))
                if results[key].interrupted:
                    return Cells(results, interrupted=True)
        finally:
            if run.restore_model:
                _restore(services, before)
    return Cells(results)


def _restore(services: ScriptServices, before) -> None:
    """Make the checkpoint that was active (or the selected one) active again, without persisting anything."""
    title = before.record.title if before is not None else services.settings.current().get("sd_model_checkpoint")
    if title:
        services.models.select_checkpoint(str(title), persist=False)
