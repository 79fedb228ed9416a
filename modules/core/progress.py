"""Thread-safe job progress and cancellation shared by the UI, the API and the backend."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from PIL import Image

log = logging.getLogger(__name__)


class CancelToken:
    """A flag the backend polls between sampling steps."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._skip = threading.Event()

    def cancel(self) -> None:
        """Ask the running job to stop at the next step."""
        self._event.set()

    def skip(self) -> None:
        """Ask the running job to end its current batch at the next step and go on with the next one."""
        self._skip.set()

    def clear_skip(self) -> None:
        """The skipped batch is over: the next one runs normally."""
        self._skip.clear()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was asked for."""
        return self._event.is_set()

    @property
    def skipped(self) -> bool:
        """Whether the current batch should end early."""
        return self._skip.is_set()

    @property
    def should_stop(self) -> bool:
        """Whether the sampler should stop now (interrupt or skip)."""
        return self._event.is_set() or self._skip.is_set()


@dataclass(frozen=True)
class ProgressSnapshot:
    """A consistent view of the current job for ``/progress`` and the UI."""

    job: str
    job_count: int
    job_no: int
    sampling_step: int
    sampling_steps: int
    progress: float
    eta_relative: float
    interrupted: bool
    job_timestamp: str
    textinfo: str
    skipped: bool = False
    current_image: Image.Image | None = None  # the latest live preview of the running batch
    preview_step: int = 0  # the sampling step that preview shows (0: none yet)


class ProgressTracker:
    """Records what the single running job is doing; readers never wait for the GPU lock."""

    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._listeners: list[Callable[[ProgressSnapshot], None]] = []
        self._cells: tuple[int, int, float] | None = None  # (cell, cells, started) while a script runs
        self._reset()

    def listen(self, listener: Callable[[ProgressSnapshot], None]) -> None:
        """Call `listener(snapshot)` after each batch start, step and finish (e.g. a console progress bar)."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        if not self._listeners:
            return
        snap = self.snapshot()
        for listener in self._listeners:
            try:
                listener(snap)
            except Exception:  # noqa: BLE001 - a display must never stop a job
                log.exception("progress listener failed")

    def _reset(self) -> None:
        self._job, self._job_count, self._job_no = "", 0, 0
        self._step, self._steps, self._started = 0, 0, 0.0
        self._token = CancelToken()
        self._timestamp, self._textinfo = "", ""
        self._preview: Image.Image | None = None
        self._preview_step = 0

    def begin(self, job: str, *, job_count: int, timestamp: str, token: CancelToken | None = None) -> CancelToken:
        """Start tracking a job of ``job_count`` batches (with the job's own cancel token, if it has one);
        returns the token."""
        with self._lock:
            self._reset()
            self._job, self._job_count = job, job_count
            self._started, self._timestamp = self._clock(), timestamp
            if token is not None:
                self._token = token
            return self._token

    def begin_batch(self, job_no: int, steps: int) -> None:
        """Mark the start of batch ``job_no`` with ``steps`` sampling steps."""
        with self._lock:
            self._job_no, self._step, self._steps = job_no, 0, steps
            self._preview, self._preview_step = None, 0
        self._notify()

    def set_preview(self, image: Image.Image, step: int) -> None:
        """Keep the live preview of the running batch at ``step``."""
        with self._lock:
            self._preview, self._preview_step = image, step

    def step(self, step: int) -> None:
        """Record that ``step`` sampling steps of the current batch are done."""
        with self._lock:
            self._step = max(self._step, min(step, self._steps))
        self._notify()

    def set_text(self, text: str) -> None:
        """Set the human-readable status line."""
        with self._lock:
            self._textinfo = text

    def set_cell(self, cell: int, cells: int) -> None:
        """A script's job runs ``cells`` generations: the progress counts them all (cleared by `finish`)."""
        with self._lock:
            started = self._cells[2] if self._cells is not None and cell > 0 else self._clock()
            self._cells = (cell, max(1, cells), started)

    def finish(self) -> None:
        """Return to idle."""
        with self._lock:
            self._cells = None
            self._reset()
        self._notify()

    def interrupt(self) -> None:
        """Cancel the running job, if any."""
        with self._lock:
            self._token.cancel()

    def skip(self) -> None:
        """End the running batch early, if any."""
        with self._lock:
            self._token.skip()

    def snapshot(self) -> ProgressSnapshot:
        """Current progress in [0, 1] with an ETA in seconds."""
        with self._lock:
            job_count, job_no, started = self._job_count, self._job_no, self._started
            if self._cells is not None and job_count:  # a script: every cell's batches count
                cell, cells, started = self._cells
                job_count, job_no = cells * job_count, cell * job_count + job_no
            total = max(1, job_count * max(1, self._steps))
            done = job_no * max(1, self._steps) + self._step
            progress = min(1.0, done / total) if self._job_count else 0.0
            elapsed = self._clock() - started if self._job_count else 0.0
            eta = elapsed / progress - elapsed if progress > 0 else 0.0
            return ProgressSnapshot(
                job=self._job, job_count=job_count, job_no=job_no,
                sampling_step=self._step, sampling_steps=self._steps, progress=progress,
                eta_relative=eta, interrupted=self._token.cancelled,
                job_timestamp=self._timestamp, textinfo=self._textinfo, skipped=self._token.skipped,
                current_image=self._preview, preview_step=self._preview_step,
            )
