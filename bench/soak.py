"""Soak test: hundreds of mixed requests with injected faults against the real server, then a health check.

    HF_HUB_OFFLINE=1 python bench/soak.py [--requests 500] [--seed 1]

The app is built by the normal composition root (bootstrap) over tiny random-weight SD1 checkpoints and served by
uvicorn on 127.0.0.1. The mix: valid txt2img and img2img (checked: 200, one image, the infotext's seed), invalid
bodies (422/400), oversized bodies (413), interrupted jobs, checkpoint switches, an out-of-memory error injected at a
sampling step (507) and a checkpoint whose UNet gives NaN (500 with a clear message). At the end: the server is
idle and answers, no temp file is left in the data folder, and RSS is within 10% of its value after warm-up.
Prints the figures; exits 1 if any check fails. tests/reliability/test_soak.py runs a short version.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import math
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

KINDS = ("txt2img", "img2img", "invalid", "oversized", "interrupt", "switch", "oom", "nan")
WEIGHTS = (40, 15, 15, 5, 8, 9, 4, 4)
RSS_TOLERANCE = 0.10


@dataclass
class SoakReport:
    """What the soak saw: counts, failures, latencies, memory and leftovers."""

    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rss_warm_mb: float = 0.0
    rss_end_mb: float = 0.0
    orphans: list[str] = field(default_factory=list)
    healthy: bool = False

    @property
    def ok(self) -> bool:
        return (not self.failures and self.healthy and not self.orphans
                and self.rss_end_mb <= self.rss_warm_mb * (1 + RSS_TOLERANCE))

    def lines(self) -> list[str]:
        mix = ", ".join(f"{kind} {count}" for kind, count in sorted(self.counts.items()))
        out = [f"requests: {sum(self.counts.values())} ({mix})"]
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            out.append(f"  {kind:9s} p50 {ordered[len(ordered) // 2] * 1000:7.1f} ms   "
                       f"max {ordered[-1] * 1000:7.1f} ms")
        out.append(f"failures: {len(self.failures)}" + "".join(f"\n  - {f}" for f in self.failures[:20]))
        out.append(f"server healthy at the end: {self.healthy}")
        out.append(f"orphan temp files: {len(self.orphans)} {self.orphans[:5]}")
        ratio = self.rss_end_mb / self.rss_warm_mb if self.rss_warm_mb else float("nan")
        out.append(f"RSS after warm-up {self.rss_warm_mb:.0f} MB, at the end {self.rss_end_mb:.0f} MB "
                   f"(x{ratio:.3f}, tolerance x{1 + RSS_TOLERANCE:.2f})")
        out.append("RESULT: " + ("PASS" if self.ok else "FAIL"))
        return out


def _png(seed: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 40 + seed % 50).convert("RGB").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _build(data_dir: Path):
    """Tiny checkpoints (two good ones, one with a NaN UNet output layer) and the app with a fault hook."""
    import torch
    from safetensors.torch import load_file, save_file

    from modules import bootstrap
    from modules.interfaces import cli
    from tests.support.tiny_models import cached_checkpoint

    source = cached_checkpoint("sd15")
    folder = data_dir / "models" / "Stable-diffusion"
    folder.mkdir(parents=True)
    for name in ("alpha", "beta"):
        (folder / f"{name}.safetensors").write_bytes(source.read_bytes())
    state = load_file(str(source))
    key = "model.diffusion_model.out.2.weight"
    state[key] = torch.full_like(state[key], math.nan)
    save_file(state, str(folder / "nanunet.safetensors"))
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full",
                         "--max-body-size", "4"], {}, install_dir=REPO)
    ctx = bootstrap.create_context(options)
    ctx.models.select_checkpoint("alpha")
    faults = {"oom": False, "delay": 0.0}
    original = ctx.progress.step

    def step(number: int) -> None:  # the injected faults: OOM at a step, or slow steps to interrupt
        if faults["oom"] and number >= 1:
            faults["oom"] = False
            raise torch.OutOfMemoryError("CUDA out of memory (injected by the soak test)")
        if faults["delay"]:
            time.sleep(faults["delay"])
        original(number)
    ctx.progress.step = step
    return bootstrap.create_app(ctx, api=True, ui=False, options=options), ctx, faults


class _Soak:
    def __init__(self, base: str, faults: dict, rng: random.Random, report: SoakReport):
        import requests

        self.http, self.base, self.faults, self.rng, self.report = requests.Session(), base, faults, rng, report
        self.model = "alpha"

    def post(self, path: str, **kwargs):
        return self.http.post(self.base + path, timeout=120, **kwargs)

    def check(self, condition: bool, what: str) -> None:
        if not condition:
            self.report.failures.append(what)

    def valid(self, response, seed: int, what: str) -> None:
        if response.status_code != 200:
            self.check(False, f"{what}: {response.status_code} {response.text[:200]}")
            return
        data = response.json()
        infotext = json.loads(data["info"])["infotexts"][0]
        self.check(len(data["images"]) == 1 and f"Seed: {seed}," in infotext, f"{what}: wrong answer {infotext!r}")

    def run(self, index: int, kind: str) -> None:
        seed = 1000 + index
        body = {"prompt": f"soak {index}", "steps": 2, "width": 64, "height": 64, "seed": seed, "sampler_name": "Euler"}
        if kind == "txt2img":
            self.valid(self.post("/sdapi/v1/txt2img", json=body), seed, kind)
        elif kind == "img2img":
            self.valid(self.post("/sdapi/v1/img2img", json={**body, "init_images": [_png(seed)],
                                                               "denoising_strength": 0.5}), seed, kind)
        elif kind == "invalid":
            bad = self.rng.choice([{**body, "steps": 0}, {**body, "width": 65}, {**body, "cfg_scale": "x"},
                                   b'{"prompt": "x", "cfg_scale": NaN}', b"{not json"])
            response = (self.post("/sdapi/v1/txt2img", data=bad, headers={"Content-Type": "application/json"})
                        if isinstance(bad, bytes) else self.post("/sdapi/v1/txt2img", json=bad))
            self.check(response.status_code in (400, 422), f"invalid: {response.status_code}")
        elif kind == "oversized":
            response = self.post("/sdapi/v1/txt2img", json={**body, "prompt": "x" * (5 << 20)})
            self.check(response.status_code == 413, f"oversized: {response.status_code}")
        elif kind == "interrupt":
            self.interrupt(body, seed)
        elif kind == "switch":
            self.model = "beta" if self.model == "alpha" else "alpha"
            response = self.post("/sdapi/v1/options", json={"sd_model_checkpoint": self.model})
            self.check(response.status_code == 200, f"switch: {response.status_code} {response.text[:200]}")
        elif kind == "oom":
            self.faults["oom"] = True
            response = self.post("/sdapi/v1/txt2img", json=body)
            self.faults["oom"] = False
            self.check(response.status_code == 507 and "Out of memory" in response.text, f"oom: {response.status_code}")
        elif kind == "nan":
            response = self.post("/sdapi/v1/txt2img", json={**body, "override_settings": {
                "sd_model_checkpoint": "nanunet"}})
            self.check(response.status_code == 500 and "NaN" in response.text and "images" not in response.json(),
                       f"nan: {response.status_code} {response.text[:200]}")

    def interrupt(self, body: dict, seed: int) -> None:
        """A 12-step job with slow steps, interrupted once it runs: 200 with its image (finished so far)."""
        box: dict = {}
        self.faults["delay"] = 0.02
        worker = threading.Thread(target=lambda: box.setdefault("r", self.post(
            "/sdapi/v1/txt2img", json={**body, "steps": 12})))
        worker.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker.is_alive():
            state = self.http.get(self.base + "/sdapi/v1/progress?skip_current_image=true", timeout=10).json()
            if state["state"]["sampling_step"] >= 2:
                break
            time.sleep(0.01)
        self.post("/sdapi/v1/interrupt")
        worker.join(60)
        self.faults["delay"] = 0.0
        self.valid(box["r"], seed, "interrupt")


def run_soak(requests_total: int = 500, seed: int = 1, data_root: Path | None = None) -> SoakReport:
    """Run the soak and return its report (the caller prints or asserts)."""
    import psutil

    from tests.support.live_server import serve

    report = SoakReport()
    with tempfile.TemporaryDirectory(dir=data_root) as tmp:
        data_dir = Path(tmp) / "data"
        app, _ctx, faults = _build(data_dir)
        rng = random.Random(seed)
        plan = rng.choices(KINDS, WEIGHTS, k=requests_total)
        warm_up = max(10, requests_total // 10)
        plan[:len(KINDS)] = rng.sample(KINDS, len(KINDS))  # the warm-up meets every kind (first loads, pools)
        spacing = (requests_total - warm_up) // len(KINDS)
        for number, kind in enumerate(KINDS if spacing else ()):  # every kind at least once after the warm-up
            plan[warm_up + number * spacing + rng.randrange(spacing)] = kind
        process = psutil.Process()
        with serve(app) as server:
            soak = _Soak(server.url, faults, rng, report)
            for index, kind in enumerate(plan):
                started = time.perf_counter()
                try:
                    soak.run(index, kind)
                except Exception as exc:  # noqa: BLE001 - a dropped connection or a crash is a failure
                    report.failures.append(f"{kind} #{index}: {type(exc).__name__}: {exc}")
                report.latencies[kind].append(time.perf_counter() - started)
                report.counts[kind] += 1
                if index + 1 == warm_up:
                    report.rss_warm_mb = process.memory_info().rss / 2**20
            report.rss_end_mb = process.memory_info().rss / 2**20
            idle = soak.http.get(server.url + "/sdapi/v1/progress", timeout=10).json()
            final = soak.post("/sdapi/v1/txt2img", json={"prompt": "final", "steps": 2, "width": 64, "height": 64,
                                                        "seed": 7})
            report.healthy = idle["state"]["job_count"] == 0 and final.status_code == 200
        report.orphans = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                                if p.name.endswith((".tmp", ".partial")) or p.name.startswith(".tmp-"))
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="how many requests to send (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the request mix (default 1)")
    args = parser.parse_args()
    started = time.perf_counter()
    report = run_soak(args.requests, args.seed)
    print("\n".join(report.lines()))
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
