"""The shared job queue through the real HTTP API and the real backend on a tiny SD1 checkpoint: progress and
interrupt answer at once during a job, interrupt and skip act within one step, previews, FIFO order, model
switches wait for the running job, and the v2 job API."""
from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from modules import bootstrap
from tests.conftest import install_checkpoint
from tests.support.live_server import serve


@pytest.fixture
def client(tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sd15"), folder, "beta.safetensors")
    ctx = make_context()
    ctx.models.select_checkpoint("alpha")
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        test_client.steps = []
        original = ctx.progress.step

        def slow_step(step: int) -> None:  # the test's step hook: every sampling step takes >= delay
            test_client.steps.append(step)
            time.sleep(test_client.delay)
            original(step)
        test_client.delay = 0.0
        ctx.progress.step = slow_step
        yield test_client


def _body(**kw):
    return {"prompt": "a red circle", "steps": 20, "width": 64, "height": 64, "seed": 1, "sampler_name": "Euler",
            **kw}


def _post_in_thread(client, path, body):
    box = {}

    def run():
        box["response"] = client.post(path, json=body)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def _until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _snap(client):
    return client.get("/sdapi/v1/progress?skip_current_image=true").json()


def test_progress_answers_at_once_and_interrupt_stops_within_one_step(client):
    """Cases 21 and 22: progress answers fast and monotonically; interrupt stops within a step; the next job runs."""
    client.delay = 0.15
    thread, box = _post_in_thread(client, "/sdapi/v1/txt2img", _body())
    _until(lambda: _snap(client)["state"]["sampling_step"] >= 1)
    seen, slowest = [], 0.0
    for _ in range(20):
        started = time.perf_counter()
        data = _snap(client)
        slowest = max(slowest, time.perf_counter() - started)
        seen.append(data["progress"])
        time.sleep(0.03)
    print(f"\n20 /progress calls during a job: slowest {slowest * 1000:.0f} ms; progress {seen[0]:.2f}->{seen[-1]:.2f}")
    assert slowest < 0.2
    assert all(0 <= p <= 1 for p in seen) and seen == sorted(seen) and seen[-1] > seen[0]
    started = time.perf_counter()
    assert client.post("/sdapi/v1/interrupt").json() == {}
    at_interrupt = _snap(client)["state"]["sampling_step"]  # at least the steps finished when it was taken
    thread.join(60)
    print(f"interrupt at step {at_interrupt}: job ended after step {max(client.steps)}, "
          f"{time.perf_counter() - started:.2f} s later")
    response = box["response"]
    assert response.status_code == 200 and len(response.json()["images"]) == 1
    assert json.loads(response.json()["info"])["interrupted"] is True
    assert max(client.steps) <= at_interrupt + 1 < 20, "interrupt ends the step in progress, no more"
    idle = _snap(client)
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0
    client.steps.clear()
    client.delay = 0.0
    after = client.post("/sdapi/v1/txt2img", json=_body(steps=4))
    assert after.status_code == 200 and client.steps[-1] == 4, "the next job runs in full"
    assert json.loads(after.json()["info"])["interrupted"] is False


def test_skip_ends_the_current_batch_and_the_next_ones_run_in_full(client):
    client.delay = 0.1
    thread, box = _post_in_thread(client, "/sdapi/v1/txt2img", _body(steps=6, n_iter=3))
    _until(lambda: _snap(client)["state"]["sampling_step"] >= 1)
    assert client.post("/sdapi/v1/skip").json() is None
    thread.join(60)
    data = box["response"].json()
    assert box["response"].status_code == 200 and len(data["images"]) == 3
    runs = "".join("|" if s == 1 else "" for s in client.steps)
    assert len(runs) == 3 and client.steps.count(6) == 2, f"steps per batch: {client.steps}"
    assert client.steps.index(1, 1) <= 4, "the skipped batch stopped at once"


def test_live_preview_in_progress(client):
    client.ctx.settings.update({"show_progress_every_n_steps": 2})
    client.delay = 0.1
    thread, box = _post_in_thread(client, "/sdapi/v1/txt2img", _body(steps=10))
    _until(lambda: _snap(client)["state"]["sampling_step"] >= 3)
    with_image = client.get("/sdapi/v1/progress").json()
    without = client.get("/sdapi/v1/progress", params={"skip_current_image": "true"}).json()
    thread.join(60)
    preview = Image.open(io.BytesIO(base64.b64decode(with_image["current_image"])))
    assert preview.size == (8, 8) and preview.mode == "RGB", "a latent-size approximation of the x0 estimate"
    assert without["current_image"] is None


def test_requests_arriving_together_are_served_in_order_with_their_own_infotext(client):
    client.delay = 0.02
    threads = []
    for seed in (11, 12, 13, 14):
        threads.append(_post_in_thread(client, "/sdapi/v1/txt2img", _body(steps=3, seed=seed,
                                                                           prompt=f"prompt {seed}")))
    for thread, _ in threads:
        thread.join(120)
    for seed, (_, box) in zip((11, 12, 13, 14), threads):
        info = json.loads(box["response"].json()["info"])
        assert info["seed"] == seed and info["infotexts"][0].startswith(f"prompt {seed}\n")
    jobs = [j for j in client.ctx.jobs.jobs() if j.kind == "txt2img"]
    assert len(jobs) == 4
    assert sorted(jobs, key=lambda j: j.submitted) == sorted(jobs, key=lambda j: j.started), "FIFO"


def test_a_model_switch_waits_for_the_running_job(client):
    client.delay = 0.1
    thread, box = _post_in_thread(client, "/sdapi/v1/txt2img", _body(steps=8))
    _until(lambda: _snap(client)["state"]["sampling_step"] >= 1)
    switch, switched = _post_in_thread(client, "/sdapi/v1/options", {"sd_model_checkpoint": "beta"})
    time.sleep(0.2)
    assert "response" not in switched, "the switch must wait for the job"
    thread.join(60)
    switch.join(60)
    assert json.loads(box["response"].json()["info"])["sd_model_name"] == "alpha"
    assert switched["response"].status_code == 200 and client.ctx.models.loaded.record.stem == "beta"


def test_v2_jobs_submit_status_progress_events_result_and_cancel(client):
    client.delay = 0.1
    started = time.perf_counter()
    first = client.post("/sdapi/v2/jobs/txt2img", json=_body(steps=6))
    second = client.post("/sdapi/v2/jobs/txt2img", json=_body(steps=2, seed=7))
    third = client.post("/sdapi/v2/jobs/txt2img", json=_body(steps=2))
    assert time.perf_counter() - started < 1.0, "submitting returns at once"
    ids = [r.json()["id"] for r in (first, second, third)]
    _until(lambda: client.get(f"/sdapi/v2/jobs/{ids[0]}").json()["state"] == "running")
    status = client.get(f"/sdapi/v2/jobs/{ids[1]}").json()
    assert status["state"] == "queued" and status["position"] == 1
    cancelled = client.delete(f"/sdapi/v2/jobs/{ids[2]}").json()
    assert cancelled["state"] == "cancelled"
    assert client.get(f"/sdapi/v2/jobs/{ids[1]}/result").status_code == 409, "not finished yet"
    with client.stream("GET", f"/sdapi/v2/jobs/{ids[0]}/events") as stream:
        events = [line for line in stream.iter_lines() if line.startswith("event:")]
    assert events[0] == "event: progress" and events[-1] == "event: done"
    _until(lambda: client.get(f"/sdapi/v2/jobs/{ids[1]}").json()["state"] == "done")
    result = client.get(f"/sdapi/v2/jobs/{ids[1]}/result").json()
    assert set(result) == {"images", "parameters", "info"} and json.loads(result["info"])["seed"] == 7
    progress = client.get(f"/sdapi/v2/jobs/{ids[1]}/progress").json()
    assert progress["progress"] == 1.0 and progress["state"] == "done"
    gone = client.get(f"/sdapi/v2/jobs/{ids[2]}/result")
    assert gone.status_code == 409 and gone.json()["error"] == "JobCancelled"
    assert client.get("/sdapi/v2/jobs/unknown").status_code == 404
    assert [j["id"] for j in client.get("/sdapi/v2/jobs").json()["jobs"]][-3:] == ids
    schema = client.get("/openapi.json").json()
    assert "/sdapi/v2/jobs/txt2img" in schema["paths"] and "/sdapi/v2/jobs/{job_id}/events" in schema["paths"]
    assert client.get("/docs").status_code == 200


def _raw_post(server, path: str, body: dict) -> socket.socket:
    """Send a request on a raw socket and leave it open (to hang up on it later)."""
    data = json.dumps(body).encode()
    sock = socket.create_connection((server.host, server.port))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def test_a_client_that_hangs_up_cancels_its_job_and_frees_the_queue(client):
    client.delay = 0.1
    with serve(bootstrap.create_app(client.ctx, api=True, ui=False)) as server:
        running = _raw_post(server, "/sdapi/v1/txt2img", _body(steps=20))
        _until(lambda: _snap(client)["state"]["sampling_step"] >= 1)
        queued = _raw_post(server, "/sdapi/v1/txt2img", _body(steps=20, seed=2))
        _until(lambda: client.ctx.jobs.waiting == 1)
        jobs = [j for j in client.ctx.jobs.jobs() if j.kind == "txt2img"]
        queued.close()
        _until(lambda: jobs[1].state.value == "cancelled", timeout=10)
        running.close()
        for job in jobs:
            assert job.wait(30), "the hung-up job must end"
        assert [j.state.value for j in jobs] == ["done", "cancelled"]
        assert jobs[0].token.cancelled and max(client.steps) < 20, "the running job was interrupted"
        client.steps.clear()
        client.delay = 0.0
        after = client.post("/sdapi/v1/txt2img", json=_body(steps=3))
        assert after.status_code == 200 and client.steps[-1] == 3


def test_xyz_plot_through_the_api_returns_the_grid_first(client):
    args = ["Sampler", "Euler, Euler a", [], "CFG Scale", "3, 7", [], "Nothing", "", [], True, True, False, False,
            0]  # legend, include sub images, no sub grids, fixed seeds, margin
    response = client.post("/sdapi/v1/txt2img", json=_body(steps=2, script_name="X/Y/Z plot", script_args=args))
    assert response.status_code == 200, response.text
    data = response.json()
    info = json.loads(data["info"])
    assert info["index_of_first_image"] == 1 and len(data["images"]) == 5 and len(info["infotexts"]) == 5
    grid = Image.open(io.BytesIO(base64.b64decode(data["images"][0])))
    assert grid.width >= 128 and grid.height >= 128 and "X Type: Sampler" in info["infotexts"][0]
    assert [t.split("Sampler: ")[1].split(",")[0] for t in info["infotexts"][1:]] == ["Euler", "Euler a"] * 2
