"""LoRA apply/restore on a full-size SD1.5-layout model: our merger vs diffusers' PEFT adapters, interleaved.

Both sides run in one process on two pipelines loaded from the same file, alternating rep by rep, so load from
other processes hits both alike; the ratios are the result, the absolute times depend on the machine.

    HF_HUB_OFFLINE=1 venv/bin/python bench/lora_apply_bench.py [--reps 5]

ours:  apply_loras(pipe, state, [lora]) with a fresh state (reads the file, merges 176 layers), then
       apply_loras(pipe, state, []) (restores the original weights, exact).
plain: pipe.load_lora_weights(file, adapter_name) + set_adapters([name], [1.0]), then delete_adapters(name).
Also times one UNet call (64x64 latent, CFG batch of 2) with each side's LoRA active, and checks that our restore
gives back the base weights bit for bit.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CACHE = REPO / "bench" / ".cache"
CKPT, LORA = CACHE / "full-sd15.safetensors", CACHE / "full-lora-r32.safetensors"


def _ensure_files() -> None:
    import subprocess
    if not CKPT.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_full_sd15.py"), str(CKPT)], check=True)
    if not LORA.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_full_lora.py"), str(LORA)], check=True)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    _ensure_files()

    import torch
    from modules.adapters.devices import DevicePolicy
    from modules.adapters.diffusers_backend import DiffusersBackend
    from modules.adapters.lora import LoraState, LoraWish, apply_loras
    from modules.core.model_catalog import ModelRecord

    torch.set_grad_enabled(False)
    stat = CKPT.stat()
    backend = DiffusersBackend(REPO / "configs", DevicePolicy(force_cpu=True))
    record = ModelRecord(CKPT.name, CKPT, stat.st_size, stat.st_mtime_ns)
    # Each side gets its own pipeline: PEFT leaves wrapper layers behind after delete_adapters, which our
    # merger (rightly) does not treat as plain Linear layers.
    pipe = backend.load_checkpoint(record).handle.pipe
    plain_pipe = backend.load_checkpoint(record).handle.pipe
    before = {k: v.clone() for k, v in pipe.unet.state_dict().items()}
    exact = None
    wish = LoraWish("r32", LORA, 1.0, 1.0)
    latents = torch.randn(2, 4, 8, 8)
    context = torch.randn(2, 77, 768)

    def unet_call(which=pipe):
        which.unet(latents, torch.tensor(500), encoder_hidden_states=context)

    def ours_apply(state):
        applied, failed = apply_loras(pipe, state, [wish], keep=4)
        if applied != ["r32"]:
            raise RuntimeError(f"LoRA not applied: {failed}")

    rows: dict[str, list[float]] = {k: [] for k in (
        "ours apply", "plain apply", "ours restore", "plain restore", "ours unet call", "plain unet call",
        "base unet call")}
    for rep in range(args.reps):
        rows["base unet call"].append(_timed(unet_call))
        state = LoraState()
        rows["ours apply"].append(_timed(lambda: ours_apply(state)))
        rows["ours unet call"].append(_timed(unet_call))
        rows["ours restore"].append(_timed(lambda: apply_loras(pipe, state, [], keep=4)))
        if exact is None:
            exact = all(torch.equal(v, pipe.unet.state_dict()[k]) for k, v in before.items())
        name = f"plain{rep}"

        def plain_apply():
            plain_pipe.load_lora_weights(str(LORA), adapter_name=name)
            plain_pipe.set_adapters([name], [1.0])
        rows["plain apply"].append(_timed(plain_apply))
        rows["plain unet call"].append(_timed(lambda: unet_call(plain_pipe)))
        rows["plain restore"].append(_timed(lambda: plain_pipe.delete_adapters(name)))
        print(f"rep {rep + 1}: " + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in rows.items()), flush=True)

    median = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\n{'measure (median of %d)' % args.reps:<28}{'ours':>10}{'plain':>10}{'ours/plain':>12}")
    for what in ("apply", "restore", "unet call"):
        ours, plain = median[f"ours {what}"], median[f"plain {what}"]
        print(f"{'LoRA r32 ' + what:<28}{ours * 1000:>8.0f}ms{plain * 1000:>8.0f}ms{ours / plain:>11.2f}x")
    print(f"{'UNet call without LoRA':<28}{median['base unet call'] * 1000:>8.0f}ms")
    print(f"base weights restored bit for bit after our restore: {exact}")
    print(f"targets: apply < 0.5 s: {'yes' if median['ours apply'] < 0.5 else 'NO'}; "
          f"restore < 0.5 s: {'yes' if median['ours restore'] < 0.5 else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
