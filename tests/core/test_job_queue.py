"""JobQueue plumbing: FIFO order, positions, cancel, interrupt/skip, re-entrant turns, errors, history.

(Pure queue mechanics; the same behaviour through the real backend and HTTP is in tests/e2e/test_job_queue.py.)
"""
from __future__ import annotations

import threading
import time

import pytest

from modules.core.errors import JobCancelled
from modules.core.job_queue import JobQueue, JobState
from modules.core.progress import ProgressTracker


def _queue(**kw) -> JobQueue:
    return JobQueue(ProgressTracker(), **kw)


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_jobs_run_one_at_a_time_in_arrival_order():
    queue, order, gate = _queue(), [], threading.Event()
    running = [0]

    def work(name):
        def run(_job):
            running[0] += 1
            assert running[0] == 1, "two jobs held the device at once"
            if name == "a":
                gate.wait(5)
            order.append(name)
            running[0] -= 1
            return name
        return run

    jobs = [queue.submit("txt2img", work(name)) for name in "abcde"]
    _until(lambda: queue.running is jobs[0])
    assert [queue.position(j) for j in jobs] == [0, 1, 2, 3, 4]
    assert [j.state for j in jobs[1:]] == [JobState.QUEUED] * 4
    gate.set()
    assert [j.outcome() for j in jobs] == list("abcde") and order == list("abcde")
    assert queue.running is None and queue.waiting == 0


def test_turns_from_plain_threads_keep_fifo_order_with_submitted_jobs():
    queue, order, gate = _queue(), [], threading.Event()
    first = queue.submit("txt2img", lambda _j: gate.wait(5))
    _until(lambda: queue.running is first)
    threads = []
    for name in ("switch", "extras"):
        def take(name=name):
            with queue.turn(name):
                order.append(name)
        threads.append(threading.Thread(target=take))
        threads[-1].start()
        _until(lambda n=len(threads): queue.waiting == n)
    last = queue.submit("img2img", lambda _j: order.append("img2img"))
    gate.set()
    last.outcome()
    for t in threads:
        t.join(5)
    assert order == ["switch", "extras", "img2img"]


def test_a_turn_is_reentrant_and_the_inner_work_sees_the_outer_job():
    queue = _queue()

    def work(job):
        with queue.turn("load model") as inner:
            return inner is job
    assert queue.submit("txt2img", work).outcome() is True


def test_cancel_a_queued_job_drops_it_and_interrupt_reaches_the_running_one():
    queue, gate = _queue(), threading.Event()
    running = queue.submit("txt2img", lambda job: (gate.wait(5), job.token.cancelled)[1])
    _until(lambda: queue.running is running)
    waiting = queue.submit("txt2img", lambda _j: "never")
    assert queue.cancel(waiting.id) is True
    assert waiting.state is JobState.CANCELLED and queue.position(waiting) == 0
    with pytest.raises(JobCancelled):
        waiting.outcome()
    assert queue.cancel(running.id) is True, "cancelling the running job interrupts it"
    gate.set()
    assert running.outcome() is True and running.state is JobState.DONE
    assert queue.cancel(running.id) is False and queue.cancel("nope") is False


def test_interrupt_and_skip_when_idle_do_nothing_and_reach_only_the_running_job():
    queue, gate = _queue(), threading.Event()
    queue.interrupt()
    queue.skip()
    job = queue.submit("txt2img", lambda j: (gate.wait(5), (j.token.cancelled, j.token.skipped))[1])
    _until(lambda: queue.running is job)
    later = queue.submit("txt2img", lambda j: (j.token.cancelled, j.token.skipped))
    queue.skip()
    gate.set()
    assert job.outcome() == (False, True)
    assert later.outcome() == (False, False), "a skip or interrupt never carries over to the next job"


def test_errors_reach_the_waiter_and_free_the_queue():
    queue = _queue()
    failed = queue.submit("txt2img", lambda _j: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failed.outcome()
    assert failed.state is JobState.FAILED
    assert queue.submit("txt2img", lambda _j: "next").outcome() == "next"


def test_after_runs_once_the_device_is_free_and_its_value_is_the_result():
    queue, seen = _queue(), {}
    job = queue.submit("txt2img", lambda _j: 2, after=lambda value: (seen.setdefault("running", queue.running),
                                                                      value * 10)[1])
    assert job.outcome() == 20 and seen["running"] is None


def test_progress_shows_a_job_while_it_holds_the_device():
    progress = ProgressTracker()
    queue, gate = JobQueue(progress), threading.Event()
    job = queue.submit("load model", lambda _j: gate.wait(5))
    _until(lambda: queue.running is job)
    snap = progress.snapshot()
    assert snap.job == "load model" and snap.job_count == 1, "a model switch shows as a job (http-api.md §5)"
    gate.set()
    job.outcome()
    _until(lambda: progress.snapshot().job_count == 0)


def test_only_the_latest_finished_jobs_are_kept():
    queue = _queue(history=3)
    jobs = [queue.submit("txt2img", lambda _j, i=i: i) for i in range(6)]
    for job in jobs:
        job.outcome()
    _until(lambda: len(queue.jobs()) == 3)
    assert [queue.get(j.id) for j in jobs[:3]] == [None] * 3 and queue.get(jobs[-1].id) is jobs[-1]
