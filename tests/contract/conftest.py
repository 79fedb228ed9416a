"""A live server over an AppContext with two tiny checkpoints (``alpha``, ``beta-inpainting``) and a LoRA,
shared by the contract tests of one module."""
from __future__ import annotations

from pathlib import Path

import pytest

from modules import bootstrap
from modules.interfaces import cli
from tests.conftest import REPO, install_checkpoint
from tests.support.live_server import serve


def build_data_dir(root: Path, tiny_checkpoint) -> Path:
    """A data folder with two checkpoints (SD1.5 and SD1.5 inpainting) and a LoRA."""
    from tests.support.tiny_addons import build_kohya_lora

    data = root / "data"
    folder = data / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "alpha.safetensors")
    install_checkpoint(tiny_checkpoint("sd15-inpaint"), folder, "beta-inpainting.safetensors")
    build_kohya_lora("sd15", data / "models" / "Lora" / "detail.safetensors")
    return data


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_checkpoint):
    """``(server, ctx)``: the real app (API only) in uvicorn on a free port."""
    data = build_data_dir(tmp_path_factory.mktemp("live"), tiny_checkpoint)
    options = cli.parse(["--data-dir", str(data), "--use-cpu", "all", "--precision", "full", "--api"], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    with serve(bootstrap.create_app(ctx, api=True, ui=False, options=options)) as server:
        yield server, ctx
