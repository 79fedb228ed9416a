"""The UI's progress loop shows a queued job's place in the shared queue, then its steps."""
from __future__ import annotations

import threading

from modules.interfaces.gradio_ui.job_progress import run_with_progress


def test_a_ui_job_behind_an_api_job_shows_its_queue_position(make_context):
    ctx = make_context()
    gate = threading.Event()
    api_job = ctx.jobs.submit("txt2img", lambda _job: gate.wait(10), source="api")
    shown: list[str] = []

    def progress(fraction, desc=""):
        shown.append(desc)
        if len(shown) == 2:
            gate.set()  # the API job ends once the UI job has reported its place twice

    assert run_with_progress(ctx, lambda: "made", progress) == "made"
    assert api_job.outcome() is True
    assert shown[0] == "In queue: 1 job ahead", shown
    ui_job = [job for job in ctx.jobs.jobs() if job.source == "ui"]
    assert len(ui_job) == 1 and ui_job[0].started >= api_job.started
