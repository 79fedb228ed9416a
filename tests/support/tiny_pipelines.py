"""Load the suite's tiny checkpoints through the real DiffusersBackend (CPU, fp32) for adapter tests."""
from __future__ import annotations

from pathlib import Path

from modules.adapters.devices import DevicePolicy
from modules.adapters.diffusers_backend import DiffusersBackend
from modules.core.backend import LoadedCheckpoint
from modules.core.model_catalog import ModelRecord
from tests.support.tiny_models import cached_checkpoint

REPO = Path(__file__).resolve().parents[2]


def load_tiny(family: str, cache_dir: Path) -> LoadedCheckpoint:
    """The tiny ``family`` checkpoint loaded exactly as the app loads a user's file."""
    path = cached_checkpoint(family, cache_dir=cache_dir)
    stat = path.stat()
    record = ModelRecord(name=path.name, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    backend = DiffusersBackend(REPO / "configs", DevicePolicy(force_cpu=True, precision="full"))
    return backend.load_checkpoint(record)
