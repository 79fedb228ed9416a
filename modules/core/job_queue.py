"""JobQueue: one FIFO queue of device work (generation, upscaling, model switches) for the UI and the API.

Each piece of work is a `Job` with an id; one runs at a time, in the order the jobs arrived, in the caller's
thread (`turn`) or in a thread of its own (`submit`). Readers (progress, positions, cancel) never wait for the
running job. A turn is re-entrant: work that already holds the turn (a model load inside a job) just goes on.
"""
from __future__ import annotations

import collections
import contextlib
import enum
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import JobCancelled
from .progress import CancelToken, ProgressTracker


class JobState(str, enum.Enum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(eq=False)
class Job:
    """One queued piece of work; `result` or `error` is set when it is done."""

    id: str
    kind: str
    source: str
    submitted: float
    token: CancelToken = field(default_factory=CancelToken)
    state: JobState = JobState.QUEUED
    started: float | None = None
    finished: float | None = None
    result: Any = None
    error: BaseException | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished_state(self) -> bool:
        """Whether the job will not change any more."""
        return self.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is over (or `timeout` seconds pass); True when it is over."""
        return self._done.wait(timeout)

    def outcome(self) -> Any:
        """The result of a finished job; its error is raised again."""
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.result


class JobQueue:
    """FIFO of jobs: one runs at a time; the progress tracker follows the running one."""

    def __init__(self, progress: ProgressTracker, *, history: int = 32,
                 clock: Callable[[], float] = time.time) -> None:
        self._progress, self._history, self._clock = progress, history, clock
        self._cond = threading.Condition()
        self._waiting: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._owner: int | None = None
        self._jobs: dict[str, Job] = {}  # every queued and running job, plus the latest finished ones

    def enqueue(self, kind: str, *, source: str = "internal") -> Job:
        """Reserve a place at the back of the queue now (the work comes later, through `turn(job=...)`)."""
        job = Job(id=uuid.uuid4().hex, kind=kind, source=source, submitted=self._clock())
        with self._cond:
            self._waiting.append(job)
            self._jobs[job.id] = job
        return job

    def submit(self, kind: str, work: Callable[[Job], Any], *, source: str = "api",
               after: Callable[[Any], Any] | None = None) -> Job:
        """Queue `work(job)` to run in its own thread when its turn comes; returns the job at once.
        `after(result)` (e.g. encoding images) runs once the device is free again; its value is the result."""
        job = self.enqueue(kind, source=source)

        def run() -> None:
            try:
                with self.turn(job=job):
                    value = work(job)
                job.result = after(value) if after is not None else value
            except BaseException as exc:  # noqa: BLE001 - kept on the job; outcome() raises it to the waiter
                job.error = exc
            finally:
                self._finish(job)
        threading.Thread(target=run, name=f"job-{kind}-{job.id[:8]}", daemon=True).start()
        return job

    @contextlib.contextmanager
    def turn(self, kind: str = "job", *, source: str = "internal", job: Job | None = None) -> Iterator[Job]:
        """Wait for this job's turn (FIFO), hold the device while the block runs, then pass it on."""
        me = threading.get_ident()
        with self._cond:
            if self._owner == me and self._running is not None:
                nested = self._running
            else:
                nested = None
        if nested is not None:
            yield nested
            return
        owned = job is None
        job = job or self.enqueue(kind, source=source)
        self._wait_for_turn(job, me)
        try:
            yield job
        except BaseException as exc:
            job.error = exc
            raise
        finally:
            self._release(job)
            if owned:
                self._finish(job)

    def _wait_for_turn(self, job: Job, me: int) -> None:
        with self._cond:
            while not (self._running is None and self._waiting and self._waiting[0] is job):
                if job.state is JobState.CANCELLED:
                    raise JobCancelled(f"{job.kind} job {job.id} was cancelled before it started")
                self._cond.wait()
            self._waiting.popleft()
            self._running, self._owner = job, me
            job.state, job.started = JobState.RUNNING, self._clock()
        self._progress.begin(job.kind, job_count=1, timestamp="", token=job.token)

    def _release(self, job: Job) -> None:
        """Free the device (or the job's place in the queue) and wake the next job."""
        with self._cond:
            if self._running is job:
                self._running, self._owner = None, None
                self._progress.finish()
            if job in self._waiting:
                self._waiting.remove(job)
            self._cond.notify_all()

    def _finish(self, job: Job) -> None:
        """Mark a job over (idempotent) and wake whoever waits for it."""
        self._release(job)
        with self._cond:
            if not job.finished_state:
                job.state = JobState.FAILED if job.error is not None else JobState.DONE
                job.finished = self._clock()
            self._forget_old()
            self._cond.notify_all()
        job._done.set()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished_state]
        for old in finished[:max(0, len(finished) - self._history)]:
            del self._jobs[old.id]

    def get(self, job_id: str) -> Job | None:
        """A queued, running or recently finished job by id."""
        with self._cond:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Known jobs, oldest first."""
        with self._cond:
            return list(self._jobs.values())

    def position(self, job: Job) -> int:
        """0 while running or finished, else how many jobs run before it (the running one included)."""
        with self._cond:
            if job not in self._waiting:
                return 0
            return self._waiting.index(job) + (1 if self._running is not None else 0)

    @property
    def running(self) -> Job | None:
        """The job holding the device, if any."""
        with self._cond:
            return self._running

    @property
    def waiting(self) -> int:
        """How many jobs wait for their turn."""
        with self._cond:
            return len(self._waiting)

    def cancel(self, job_id: str) -> bool:
        """Drop a queued job, or interrupt the running one (it returns what it finished); False if unknown/over."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.finished_state:
                return False
            if job.state is JobState.QUEUED:
                job.state, job.finished = JobState.CANCELLED, self._clock()
                job.error = JobCancelled(f"{job.kind} job {job.id} was cancelled before it started")
                self._waiting.remove(job)
                self._cond.notify_all()
                job._done.set()
                return True
        job.token.cancel()
        return True

    def interrupt(self) -> None:
        """Stop the running job at the next sampling step (A1111's Interrupt); no effect when idle."""
        job = self.running
        if job is not None:
            job.token.cancel()

    def skip(self) -> None:
        """End the running job's current batch and go on with the next (A1111's Skip)."""
        job = self.running
        if job is not None:
            job.token.skip()
