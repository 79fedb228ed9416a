"""``/sdapi/v2/jobs``: our job API beyond A1111. Submitting returns a job id at once; status, progress (with a
live preview), result and cancel go by id, and ``/events`` streams progress as server-sent events."""
from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from modules.core.context import AppContext
from modules.core.errors import JobNotFinished, JobNotFound, WebUIError
from modules.core.job_queue import Job, JobState

from .errors import error_body
from .generation_routes import generation_work, progress_body
from .img2img_schemas import Img2ImgBody
from .jobs_schemas import JobList, JobProgress, JobStatus, JobSubmitted
from .schemas import GenerationBody, Txt2ImgBody, generation_response
from .strict_json import StrictJSONRoute

PREFIX = "/sdapi/v2/jobs"
TAGS = ["jobs (v2)"]


def job_status(ctx: AppContext, job: Job) -> dict[str, Any]:
    """What a client may know about a job (never its request body or result)."""
    error = None
    if job.error is not None:
        error = error_body(type(job.error).__name__, _message(job.error))
    return {"id": job.id, "kind": job.kind, "source": job.source, "state": job.state.value,
            "position": ctx.jobs.position(job), "submitted": job.submitted, "started": job.started,
            "finished": job.finished, "error": error}


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, WebUIError) else "internal error; see the server log"


def jobs_router(ctx: AppContext) -> APIRouter:
    """The v2 job routes (each also answers with a trailing slash)."""
    router = APIRouter(tags=TAGS, route_class=StrictJSONRoute)

    def find(job_id: str) -> Job:
        job = ctx.jobs.get(job_id)
        if job is None:
            raise JobNotFound(f"No job {job_id!r} (unknown, or finished long ago)")
        return job

    def submit(kind: str, body: GenerationBody) -> dict:
        work = generation_work(ctx, kind, body)  # bad input answers now, before anything is queued
        job = ctx.jobs.submit(kind, work, source="api-v2", after=lambda result: generation_response(result, body))
        return {"id": job.id, "state": job.state.value, "position": ctx.jobs.position(job)}

    def submit_txt2img(body: Txt2ImgBody) -> dict:
        """Queue a txt2img job (the body of ``/sdapi/v1/txt2img``); returns its id at once."""
        return submit("txt2img", body)

    def submit_img2img(body: Img2ImgBody) -> dict:
        """Queue an img2img job (the body of ``/sdapi/v1/img2img``); returns its id at once."""
        return submit("img2img", body)

    def list_jobs() -> dict:
        """Queued, running and recently finished jobs, oldest first."""
        return {"jobs": [job_status(ctx, job) for job in ctx.jobs.jobs()]}

    def status(job_id: str) -> dict:
        """One job's state and queue position."""
        return job_status(ctx, find(job_id))

    def progress(job_id: str, preview: bool = True) -> dict:
        """Progress of a job: sampling step, ETA and live preview while it runs."""
        return _progress(ctx, find(job_id), preview)

    def result(job_id: str) -> dict:
        """The finished job's answer, as ``/sdapi/v1`` gives it: images, parameters, info."""
        job = find(job_id)
        if not job.finished_state:
            raise JobNotFinished(f"Job {job_id} is {job.state.value}; poll its status or stream its events")
        return job.outcome()

    def cancel(job_id: str) -> dict:
        """Cancel a queued job, or interrupt a running one (it keeps what it finished)."""
        job = find(job_id)
        ctx.jobs.cancel(job.id)
        return job_status(ctx, job)

    async def events(job_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: ``progress`` about twice a second, then one ``done`` with the final status."""
        return StreamingResponse(_stream(ctx, find(job_id), request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    for method, path, handler, model in (
            ("POST", "/txt2img", submit_txt2img, JobSubmitted), ("POST", "/img2img", submit_img2img, JobSubmitted),
            ("GET", "", list_jobs, JobList), ("GET", "/{job_id}", status, JobStatus),
            ("GET", "/{job_id}/progress", progress, JobProgress), ("GET", "/{job_id}/result", result, None),
            ("DELETE", "/{job_id}", cancel, JobStatus), ("GET", "/{job_id}/events", events, None)):
        for variant in (path, path + "/"):
            router.add_api_route(PREFIX + variant, handler, methods=[method], response_model=model,
                                 include_in_schema=variant == path)
    return router


def _progress(ctx: AppContext, job: Job, preview: bool) -> dict[str, Any]:
    """Status plus A1111-style progress fields when the job is the running one."""
    body = {**job_status(ctx, job), "progress": 1.0 if job.state is JobState.DONE else 0.0, "eta_relative": None,
            "sampling_step": None, "sampling_steps": None, "current_image": None}
    if ctx.jobs.running is job:
        snap = progress_body(ctx, skip_current_image=not preview)
        body.update(progress=snap["progress"], eta_relative=snap["eta_relative"],
                    sampling_step=snap["state"]["sampling_step"], sampling_steps=snap["state"]["sampling_steps"],
                    current_image=snap["current_image"])
    return body


async def _stream(ctx: AppContext, job: Job, request: Request) -> AsyncIterator[str]:
    last = None
    while not job.finished_state:
        if await request.is_disconnected():
            return
        update = _progress(ctx, job, preview=True)
        if update != last:
            yield f"event: progress\ndata: {json.dumps(update)}\n\n"
            last = update
        for _ in range(10):  # about twice a second, at once when the job ends
            if job.wait(0):
                break
            await asyncio.sleep(0.05)
    yield f"event: done\ndata: {json.dumps(job_status(ctx, job))}\n\n"

