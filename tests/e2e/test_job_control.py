"""Progress is visible while a job runs, and Interrupt stops it at the next step with a partial image."""
from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from modules import bootstrap
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint


def _wait_for_step(ctx, timeout: float = 60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        snap = ctx.progress.snapshot()
        if snap.sampling_step >= 1:
            return snap
        time.sleep(0.01)
    raise AssertionError("the job never reported a step")


def test_progress_during_a_job_and_interrupt(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    ctx.models.ensure()
    box = {}
    client = TestClient(bootstrap.create_app(ctx, api=True, ui=False))

    def run():
        box["result"] = ctx.generation.txt2img(Txt2ImgRequest(steps=150, width=64, height=64, seed=3,
                                                              sampler_name="Euler", n_iter=3, save_images=False))
    worker = threading.Thread(target=run)
    worker.start()
    snap = _wait_for_step(ctx)
    started = time.perf_counter()
    progress = client.get("/sdapi/v1/progress").json()
    assert time.perf_counter() - started < 0.5, "progress must not wait for the job"
    assert progress["state"]["job_count"] == 3 and progress["state"]["sampling_steps"] == 150
    assert 0 < progress["progress"] < 1 and snap.job == "txt2img"
    assert client.post("/sdapi/v1/interrupt").json() == {}
    worker.join(60)
    result = box["result"]
    assert result.interrupted and len(result.images) == 1, "the running batch returns its partial image"
    assert result.images[0].image.size == (64, 64)
    idle = client.get("/sdapi/v1/progress").json()
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0
