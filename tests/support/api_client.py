"""The app as webui.py builds it (composition root, API on), behind a TestClient, for tests that share one per
module: ``with api_client(data_dir, checkpoint=...) as client`` gives ``client.ctx`` and ``client.data_dir``."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fastapi.testclient import TestClient

from modules import bootstrap
from modules.interfaces import cli
from tests.conftest import REPO, install_checkpoint

LOCAL = "http://127.0.0.1:7860"


@contextmanager
def api_client(data_dir: Path, *flags: str, checkpoint: Path | None = None, ui: bool = False) -> Iterator[TestClient]:
    """A client on a fresh app over `data_dir` (CPU, fp32), with `checkpoint` installed as ``tiny.safetensors``."""
    if checkpoint is not None:
        install_checkpoint(checkpoint, data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full", *flags], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    with TestClient(bootstrap.create_app(ctx, api=True, ui=ui, options=options), base_url=LOCAL) as client:
        client.ctx, client.data_dir = ctx, data_dir
        yield client
