"""Convert a pickle model (``.ckpt``, ``.pt``, ``.pth``, ``.bin``) to ``.safetensors`` in a separate process.

A pickle can carry code. The server never unpickles one in its own process: it runs this file as a child process
(``python -I``: no user site, no environment paths; a minimal environment; CPU-time and file-size limits; a timeout)
that reads the pickle with torch's weights-only unpickler (torch >= 2.10 for the fixes of CVE-2025-32434 and
CVE-2026-24747), keeps the tensors and writes them atomically as ``.safetensors``. The server then loads only that
file, which is kept so the pickle is never read again. A pickle that asks for anything but tensors is refused by the
unpickler; were it ever to get through, its code would run in the throw-away child, not in the server.

Also a command: ``python -m modules.adapters.pickle_converter model.ckpt [more files]`` writes ``model.safetensors``
beside each file (never overwriting one).

This file imports only the standard library, torch and safetensors, so it runs as a plain script.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MIN_TORCH = (2, 10)
REFUSED_EXIT = 3  # the pickle holds more than weights
UNREADABLE_EXIT = 4  # corrupt, truncated or not a model
WRAPPER_KEYS = ("state_dict", "params_ema", "params")  # Lightning/A1111 and Real-ESRGAN (basicsr) wrappers
CPU_SECONDS = 1800
TIMEOUT_SECONDS = 3600


class ConversionFailed(Exception):
    """The child refused or could not convert the file; ``refused`` is True when the pickle holds more than
    weights."""

    def __init__(self, message: str, *, refused: bool):
        super().__init__(message)
        self.refused = refused


def convert_isolated(source: Path, target: Path) -> None:
    """Run this file as a child process to convert `source` into `target`; raise ConversionFailed."""
    environment = {key: os.environ[key] for key in ("PATH", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP") if key in os.environ}
    environment.update(HF_HUB_OFFLINE="1", PYTHONHASHSEED="0", OMP_NUM_THREADS="1")
    try:
        done = subprocess.run([sys.executable, "-I", str(Path(__file__).resolve()), "--child", str(source),
                               str(target)], capture_output=True, text=True, env=environment,
                              timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ConversionFailed(f"{source.name}: converting took longer than {TIMEOUT_SECONDS} s",
                               refused=False) from exc
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        reason = lines[-1] if lines else f"the converter exited with code {done.returncode}"
        raise ConversionFailed(reason, refused=done.returncode == REFUSED_EXIT)


def _limit_resources(source: Path) -> None:
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:
        return
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = source.stat().st_size * 2 + (256 << 20)  # fp32 copies of fp16-in-name files cannot exceed this
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _tensors(data: object) -> dict:
    """The tensors of a loaded pickle: wrappers unwrapped, nested dicts flattened with dotted names."""
    import torch  # noqa: PLC0415

    while isinstance(data, dict):
        inner = next((data[key] for key in WRAPPER_KEYS if isinstance(data.get(key), dict)), None)
        if inner is None:
            break
        data = inner
    found: dict[str, torch.Tensor] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, torch.Tensor):
            found[prefix] = value
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
    walk("", data)
    return found


def _child(source: Path, target: Path) -> int:
    """Inside the child: load weights-only, write safetensors atomically; exit codes tell the parent why."""
    import pickle  # noqa: PLC0415

    import torch  # noqa: PLC0415
    from safetensors.torch import save_file  # noqa: PLC0415

    _limit_resources(source)
    if tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) < MIN_TORCH:
        print(f"{source.name}: refusing to read a pickle with torch {torch.__version__}: torch 2.10 or newer "
              "is needed (CVE-2026-24747)", file=sys.stderr)
        return REFUSED_EXIT
    try:
        data = torch.load(str(source), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        print(f"{source.name}: refused to load: the pickle contains objects other than weights (it could run "
              f"code; {type(exc).__name__})", file=sys.stderr)
        return REFUSED_EXIT
    except Exception as exc:  # noqa: BLE001 - any other failure means an unreadable file
        print(f"{source.name}: corrupt or unreadable pickle ({_first_line(exc)})", file=sys.stderr)
        return UNREADABLE_EXIT
    tensors = _tensors(data)
    if not tensors:
        print(f"{source.name}: the file holds no tensors", file=sys.stderr)
        return UNREADABLE_EXIT
    seen: set[int] = set()
    for name, tensor in tensors.items():  # safetensors refuses tensors sharing memory: give each its own
        pointer = tensor.untyped_storage().data_ptr()
        tensors[name] = tensor.clone().contiguous() if pointer in seen else tensor.contiguous()
        seen.add(pointer)
    partial = target.with_name(target.name + ".partial")
    try:
        save_file(tensors, str(partial), metadata={"converted_from": source.name})
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return 0


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def main(argv: list[str]) -> int:
    """``--child SRC DST`` (used by the server) or ``FILE...`` (a user converting files by hand)."""
    if argv[:1] == ["--child"] and len(argv) == 3:
        return _child(Path(argv[1]), Path(argv[2]))
    if not argv or argv[0].startswith("-"):
        print("usage: python -m modules.adapters.pickle_converter MODEL.ckpt [MODEL.pt ...]\n"
              "Writes MODEL.safetensors beside each file (never overwrites), reading the pickle in a separate, "
              "weights-only process.", file=sys.stderr)
        return 2
    failed = 0
    for name in argv:
        source = Path(name)
        target = source.with_suffix(".safetensors")
        if target.exists():
            print(f"skipped {source}: {target.name} already exists")
            continue
        try:
            convert_isolated(source, target)
            print(f"wrote {target}")
        except ConversionFailed as exc:
            failed += 1
            print(f"failed {source}: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
