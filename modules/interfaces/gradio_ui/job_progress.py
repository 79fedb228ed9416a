"""Queue a generation in the shared job queue while the Gradio handler reports its queue place, steps, ETA and
live previews."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Iterator, TypeVar

import gradio as gr
from PIL import Image

from modules.core.context import AppContext
from modules.core.job_queue import Job, JobState

T = TypeVar("T")

# Generate events Gradio lets in at once: they wait in our job queue (which shows their place), not in Gradio's.
QUEUED_EVENTS = 16


@dataclass(frozen=True)
class Finished(Generic[T]):
    """The last item `stream_with_progress` yields: the job's result."""

    value: T


def run_with_progress(ctx: AppContext, work: Callable[[], T], progress: gr.Progress,
                      name: str = "generation") -> T:
    """Queue ``work`` (FIFO with the API's jobs) and report to the browser until it is done."""
    job = ctx.jobs.submit(name, lambda _job: work(), source="ui")
    while not job.wait(0.25):
        progress(*_status(ctx, job))
    return job.outcome()


def stream_with_progress(ctx: AppContext, work: Callable[[], T], progress: gr.Progress,
                         name: str = "generation") -> Iterator[Image.Image | Finished[T]]:
    """As `run_with_progress`, yielding each new live preview while the job runs, then `Finished(result)`."""
    job = ctx.jobs.submit(name, lambda _job: work(), source="ui")
    shown: tuple[int, int] | None = None
    while not job.wait(0.25):
        progress(*_status(ctx, job))
        snap = ctx.progress.snapshot()
        if ctx.jobs.running is job and snap.current_image is not None:
            key = (snap.job_no, snap.preview_step)
            if key != shown:
                shown = key
                yield snap.current_image
    yield Finished(job.outcome())


def _status(ctx: AppContext, job: Job) -> tuple[float, str]:
    """(fraction, description) for the progress bar."""
    if job.state is JobState.QUEUED:
        ahead = ctx.jobs.position(job)
        return 0.0, f"In queue: {ahead} job{'s' if ahead != 1 else ''} ahead"
    snap = ctx.progress.snapshot()
    if snap.sampling_steps:
        batch = f"Batch {snap.job_no + 1}/{snap.job_count}, " if snap.job_count > 1 else ""
        return snap.progress, f"{batch}Step {snap.sampling_step}/{snap.sampling_steps}, ETA {snap.eta_relative:.0f}s"
    return 0.0, snap.textinfo or ("Loading model..." if ctx.models.loaded is None else "Preparing...")
