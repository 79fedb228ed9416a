"""Load a full-size SD1.5-layout checkpoint with the shipped configs and make a 64x64 image on the CPU.

Usage: python bench/full_sd15_smoke.py [CHECKPOINT]   (default: bench/.cache/full-sd15.safetensors, built
by bench/make_full_sd15.py when missing). Prints the load time, the generation time and peak RSS.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from modules import bootstrap  # noqa: E402
from modules.core.params import Txt2ImgRequest  # noqa: E402
from modules.interfaces import cli  # noqa: E402


def main() -> int:
    """Build (if needed), load, generate, report."""
    checkpoint = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "bench" / ".cache" / "full-sd15.safetensors"
    if not checkpoint.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_full_sd15.py"), str(checkpoint)], check=True)
    size_gb = checkpoint.stat().st_size / 1e9
    with tempfile.TemporaryDirectory() as data_dir:
        options = cli.parse(["--data-dir", data_dir, "--ckpt", str(checkpoint), "--use-cpu", "all", "--no-hashing"],
                            {}, install_dir=REPO)
        ctx = bootstrap.create_context(options)
        started = time.perf_counter()
        loaded = ctx.models.select_checkpoint(checkpoint.name)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        result = ctx.generation.txt2img(Txt2ImgRequest(prompt="a photo of a cat", steps=2, width=64, height=64,
                                                       seed=1, sampler_name="Euler", save_images=False))
        gen_s = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    image = result.images[0].image
    print(f"checkpoint: {checkpoint.name} ({size_gb:.2f} GB), family {loaded.family.value}, "
          f"{loaded.device}/{loaded.dtype}")
    print(f"load: {load_s:.1f} s   txt2img 64x64, 2 steps: {gen_s:.1f} s   image {image.size}   "
          f"peak RSS {peak_gb:.2f} GB")
    print(result.images[0].infotext.splitlines()[-1])
    return 0 if image.size == (64, 64) else 1


if __name__ == "__main__":
    sys.exit(main())
