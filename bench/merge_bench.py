"""Merge two checkpoints with the Checkpoint Merger service and print the time and the peak memory.

Usage: python bench/merge_bench.py A.safetensors B.safetensors [--half] [--recipe] [--method "Weighted sum"]
(e.g. two files written by bench/make_full_sd15.py with different --seed). The inputs are symlinked into a
temporary data folder; the output is written there and deleted. Memory is sampled every 20 ms from
/proc/self/status: RssAnon (private memory: what the merge itself holds) and RssFile (input pages mapped by
safe_open, which the kernel can drop at any time), plus the process's ru_maxrss.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from modules import bootstrap  # noqa: E402
from modules.core.merge import MergeRequest  # noqa: E402
from modules.core.params import Txt2ImgRequest  # noqa: E402
from modules.interfaces import cli  # noqa: E402


def _status_mb() -> dict[str, float]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0]) / 1024
    return values


class Sampler(threading.Thread):
    """Keeps the maximum of each memory figure while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for key, value in _status_mb().items():
                self.peak[key] = max(value, self.peak.get(key, 0.0))
            time.sleep(0.02)


def _generate(ctx, name: str) -> None:
    started = time.perf_counter()
    ctx.models.select_checkpoint(name)
    image = ctx.generation.txt2img(Txt2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=1,
                                                  sampler_name="Euler", save_images=False)).images[0]
    print(f"merged model loaded and generated {image.image.size} in {time.perf_counter() - started:.1f} s: "
          f"{image.infotext.splitlines()[-1][:90]}...")


def main() -> int:
    """Merge, report, clean up."""
    parser = argparse.ArgumentParser()
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--half", action="store_true")
    parser.add_argument("--recipe", action="store_true", help="hash the inputs and write the merge recipe")
    parser.add_argument("--method", default="Weighted sum")
    parser.add_argument("--generate", action="store_true", help="then load the result and make a 64x64 image")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=REPO / "bench" / ".cache") as data_dir:
        folder = Path(data_dir) / "models" / "Stable-diffusion"
        folder.mkdir(parents=True)
        for name, path in (("a.safetensors", args.a), ("b.safetensors", args.b)):
            (folder / name).symlink_to(path.resolve())
        options = cli.parse(["--data-dir", data_dir, "--use-cpu", "all", "--no-hashing"], {}, install_dir=REPO)
        ctx = bootstrap.create_context(options)
        before = _status_mb()
        sampler = Sampler()
        sampler.start()
        started = time.perf_counter()
        result = ctx.merger.merge(MergeRequest("a.safetensors", "b.safetensors", interp_method=args.method,
                                               multiplier=0.5, save_as_half=args.half, custom_name="bench-merge",
                                               save_metadata=args.recipe, add_merge_recipe=args.recipe))
        seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        size = result.path.stat().st_size / 1e9
        if args.generate:
            _generate(ctx, result.path.name)
    in_size = args.a.stat().st_size / 1e9
    print(f"inputs {in_size:.2f} GB each, output {size:.2f} GB, {result.tensors} tensors, {seconds:.1f} s "
          f"(recipe={args.recipe}, half={args.half})")
    print("memory before merge: " + ", ".join(f"{k} {v:.0f} MB" for k, v in before.items()))
    print("peak during merge:   " + ", ".join(f"{k} {v:.0f} MB" for k, v in sampler.peak.items())
          + f"; ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
