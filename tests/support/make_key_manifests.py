"""Key manifests of the real single-file layouts, derived from the shipped full-size configs.

The full-size components are built on the `meta` device (no memory, no weights) from `configs/<family>/`
and mapped with the same key mapping as the tiny checkpoints; the resulting key names are stored in
`key_manifests/<family>.txt`, one per line, sorted.  Regenerate with:

    HF_HUB_OFFLINE=1 venv/bin/python -m tests.support.make_key_manifests
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from .single_file_layout import single_file_state
from .tiny_configs import FAMILIES, instantiate, shipped_configs

MANIFEST_DIR = Path(__file__).resolve().parent / "key_manifests"


def full_size_layout(family: str) -> dict[str, torch.Size]:
    """Return {original key: shape} of a real full-size checkpoint of `family` (built on meta)."""
    cfgs = shipped_configs(family)
    parts = instantiate(family, cfgs, device="meta")
    return {key: value.shape for key, value in single_file_state(family, parts, cfgs).items()}


def manifest_path(family: str) -> Path:
    """Return the path of the stored manifest of `family`."""
    return MANIFEST_DIR / f"{family}.txt"


def read_manifest(family: str) -> list[str]:
    """Return the stored key names of `family`."""
    return [line for line in manifest_path(family).read_text(encoding="utf-8").splitlines() if line]


def write_manifests(families: tuple[str, ...] = FAMILIES) -> list[Path]:
    """(Re)write the manifests of the given families and return their paths."""
    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for family in families:
        path = manifest_path(family)
        path.write_text("\n".join(sorted(full_size_layout(family))) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_manifests(tuple(sys.argv[1:]) or FAMILIES):
        print(written_path)
