"""Response models of the v2 job API (they document ``/docs``; handlers return plain dicts)."""
from __future__ import annotations

from pydantic import BaseModel


class JobError(BaseModel):
    """Why a job failed, in the API's error shape."""

    error: str
    detail: str
    body: str
    errors: str


class JobSubmitted(BaseModel):
    """A job just queued: its id and how many jobs run before it."""

    id: str
    state: str
    position: int


class JobStatus(BaseModel):
    """A job's life: queued (with its position), running, done, failed or cancelled; times are Unix seconds."""

    id: str
    kind: str
    source: str
    state: str
    position: int
    submitted: float
    started: float | None = None
    finished: float | None = None
    error: JobError | None = None


class JobProgress(JobStatus):
    """Status plus progress in [0, 1], ETA in seconds, sampling step and a live preview (raw base64 PNG)."""

    progress: float
    eta_relative: float | None = None
    sampling_step: int | None = None
    sampling_steps: int | None = None
    current_image: str | None = None


class JobList(BaseModel):
    """Queued, running and recently finished jobs, oldest first."""

    jobs: list[JobStatus]
