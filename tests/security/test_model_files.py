"""Malformed ``.safetensors`` files (case 12) and model names that try to leave the model folders (case 10): clean
errors naming the file, the loaded model keeps generating, no file outside the model folders is opened."""
from __future__ import annotations

import json
import struct

import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.core.errors import InvalidModelFile
from modules.core.safetensors_header import read_header
from modules.interfaces import cli
from tests.conftest import REPO, install_checkpoint


def _file(path, header: dict, data: bytes = b"", length: int | None = None) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + data)


F32_2x2 = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
DAMAGE = {
    "absurd header length": ({"a": F32_2x2}, bytes(16), 1 << 60, "header claims"),
    "header longer than file": ({"a": F32_2x2}, bytes(16), 10_000, "header claims"),
    "not json": (None, b"", None, "not valid JSON"),
    "not an object": ([1, 2], b"", None, "not a JSON object"),
    "unknown dtype": ({"a": {**F32_2x2, "dtype": "Q7"}}, bytes(16), None, "unknown dtype"),
    "negative dim": ({"a": {**F32_2x2, "shape": [-2, -2]}}, bytes(16), None, "invalid shape"),
    "size mismatch": ({"a": {**F32_2x2, "shape": [4, 4]}}, bytes(16), None, "needs 64 bytes"),
    "out of range": ({"a": {**F32_2x2, "data_offsets": [0, 16]}}, bytes(8), None, "past the end"),
    "reversed offsets": ({"a": {**F32_2x2, "data_offsets": [16, 0]}}, bytes(16), None, "invalid data offsets"),
    "overlap": ({"a": F32_2x2, "b": {**F32_2x2, "data_offsets": [8, 24]}}, bytes(24), None, "overlap"),
    "bad metadata": ({"__metadata__": {"x": 1}, "a": F32_2x2}, bytes(16), None, "__metadata__"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_header_checks_name_the_damage(tmp_path, kind):
    """Case 12: each kind of damage gives InvalidModelFile naming the file and what is wrong."""
    header, data, length, words = DAMAGE[kind]
    path = tmp_path / "broken.safetensors"
    if header is None:
        path.write_bytes(struct.pack("<Q", 5) + b"{oops")
    else:
        _file(path, header, data, length)
    with pytest.raises(InvalidModelFile, match=f"broken.safetensors: .*{words}"):
        read_header(path)


def test_a_sound_header_passes(tmp_path):
    path = tmp_path / "ok.safetensors"
    _file(path, {"__metadata__": {"k": "v"}, "a": F32_2x2, "b": {**F32_2x2, "data_offsets": [16, 32]}}, bytes(32))
    assert set(read_header(path)) == {"a", "b"}


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_checkpoint):
    root = tmp_path_factory.mktemp("names")
    data_dir = root / "data"
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "good.safetensors")
    good = (folder / "good.safetensors").read_bytes()
    (folder / "truncated.safetensors").write_bytes(good[: len(good) // 2])
    _file(folder / "overlap.safetensors", DAMAGE["overlap"][0], DAMAGE["overlap"][1])
    _file(folder / "huge-header.safetensors", {"a": F32_2x2}, bytes(16), 1 << 60)
    # a valid checkpoint outside the model folders: a name that escapes must never reach it
    install_checkpoint(tiny_checkpoint("sd15"), root, "outside.safetensors")
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False, options=options),
                    base_url="http://127.0.0.1:7860") as test_client:
        assert test_client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "good"}).status_code == 200
        test_client.ctx, test_client.root = ctx, root
        yield test_client


SMALL = {"prompt": "x", "steps": 1, "width": 64, "height": 64, "seed": 1}


@pytest.mark.parametrize("name", ["truncated", "overlap", "huge-header"])
def test_damaged_checkpoints_are_422_and_the_loaded_model_stays(client, name):
    """Case 12: switching to a damaged file -> 422 naming it; the previous model still generates."""
    response = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": name})
    assert response.status_code == 422 and f"{name}.safetensors" in response.json()["detail"], response.text
    assert client.ctx.models.loaded.record.path.name == "good.safetensors"
    assert client.post("/sdapi/v1/txt2img", json=SMALL).status_code == 200


TRAVERSAL = ["../../outside", "../../outside.safetensors", "/etc/passwd", "..\\..\\outside.safetensors",
             "%2e%2e/%2e%2e/outside", "good/../../../outside", "C:\\Windows\\win.ini"]


@pytest.mark.parametrize("name", TRAVERSAL)
def test_names_with_paths_never_open_files_outside_the_model_folders(client, name, monkeypatch):
    """Case 10: through POST /options and override_settings, checkpoint and VAE names that carry paths are 404 or
    422; only catalogue names resolve, so nothing outside the model folders is opened."""
    import builtins

    opened: list[str] = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda file, *a, **k: (opened.append(str(file)), real_open(file, *a, **k))[1])
    for body in ({"sd_model_checkpoint": name}, {"sd_vae": name}):
        response = client.post("/sdapi/v1/options", json=body)
        assert response.status_code in (404, 422), (body, response.status_code, response.text)
    for override in ({"sd_model_checkpoint": name}, {"sd_vae": name}):
        response = client.post("/sdapi/v1/txt2img", json={**SMALL, "override_settings": override})
        assert response.status_code in (404, 422), (override, response.status_code, response.text)
    assert not [p for p in opened if "outside" in p or p.startswith(("/etc", "C:"))], opened
    assert client.ctx.models.loaded.record.path.name == "good.safetensors"
