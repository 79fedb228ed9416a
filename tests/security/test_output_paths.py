"""Case 14: output folders and file name patterns cannot be pointed outside the outputs root: the API refuses path
settings, and even patterns written into config.json by hand cannot make a file land outside it."""
from __future__ import annotations

import pytest

from tests.support.api_client import api_client


BODY = {"prompt": "a cat", "steps": 1, "width": 64, "height": 64, "seed": 8, "sampler_name": "Euler",
        "save_images": True, "batch_size": 2}
PATH_SETTINGS = {"outdir_samples": "/tmp/escape", "outdir_txt2img_samples": "../../escape",
                 "outdir_grids": "/tmp", "outdir_img2img_samples": "../..", "samples_filename_pattern": "../../[seed]",
                 "directories_filename_pattern": "../../../[date]"}


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_checkpoint):
    root = tmp_path_factory.mktemp("paths")
    with api_client(root / "data", checkpoint=tiny_checkpoint("sd15")) as test_client:
        test_client.root = root
        yield test_client


def _everything(root):
    return {p for p in root.rglob("*") if p.is_file() and p.suffix in (".png", ".jpg", ".webp", ".txt")}


def test_path_settings_cannot_be_changed_through_the_api(client):
    before = client.get("/sdapi/v1/options").json()
    for key, value in PATH_SETTINGS.items():
        response = client.post("/sdapi/v1/options", json={key: value})
        assert response.status_code == 403, (key, response.text)
        response = client.post("/sdapi/v1/txt2img", json={**BODY, "override_settings": {key: value}})
        assert response.status_code in (403, 422), (key, response.text)
    assert client.get("/sdapi/v1/options").json() == before


@pytest.mark.parametrize("key", ["samples_filename_pattern", "directories_filename_pattern"])
def test_patterns_written_by_hand_still_stay_inside_the_outputs_root(client, key):
    """A pattern with ``..`` and separators (edited into config.json) cannot escape: files land inside the
    outputs root, or the job fails cleanly with nothing written anywhere."""
    outputs = (client.data_dir / "outputs").resolve()
    before = _everything(client.root)
    client.ctx.settings.update({key: PATH_SETTINGS[key], "save_to_dirs": True})
    try:
        response = client.post("/sdapi/v1/txt2img", json=BODY)
    finally:
        client.ctx.settings.update({key: "" if key.startswith("samples") else "[date]"})
    created = _everything(client.root) - before
    assert all(outputs in p.resolve().parents for p in created), created
    assert response.status_code == 200 and created or response.status_code == 422 and not created, response.text
