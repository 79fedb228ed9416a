"""Shared fixtures: tiny real-layout checkpoints and an AppContext over a temporary data folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory) -> Path:
    """Where the suite's tiny checkpoints are built once per run."""
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_cache):
    """``tiny_checkpoint(family, fmt)`` -> path of a cached tiny checkpoint (with its sidecar, if any)."""
    from tests.support.tiny_models import cached_checkpoint

    def build(family: str, fmt: str = "safetensors") -> Path:
        return cached_checkpoint(family, fmt, tiny_cache)
    return build


def install_checkpoint(source: Path, folder: Path, name: str | None = None) -> Path:
    """Copy a checkpoint (and its ``.yaml`` sidecar) into a model folder."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (name or source.name)
    shutil.copy2(source, dest)
    sidecar = source.with_suffix(".yaml")
    if sidecar.exists():
        shutil.copy2(sidecar, dest.with_suffix(".yaml"))
    return dest


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data folder for one test."""
    return tmp_path / "data"


@pytest.fixture
def make_context(data_dir):
    """``make_context(*extra_args)`` -> AppContext on ``data_dir``, CPU, fp32."""
    from modules import bootstrap
    from modules.interfaces import cli

    def build(*args: str):
        options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full", *args], {},
                            install_dir=REPO)
        return bootstrap.create_context(options)
    return build
