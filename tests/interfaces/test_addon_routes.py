"""Tests for the /sdapi/v1 VAE and LoRA listing and refresh routes on a real AddonCatalog over temporary folders."""
from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from modules.core.addon_catalog import AddonCatalog
from modules.core.hashes import HashCache
from modules.core.paths import Paths
from modules.interfaces.http_api.addon_routes import addon_routes


def _safetensors(path: Path, metadata: dict) -> Path:
    header = {"__metadata__": metadata, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0\0\0\0")
    return path


def _blob(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"bytes")
    return path


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths.from_root(tmp_path / "data", install_dir=tmp_path)


@pytest.fixture
def client(paths):
    ctx = SimpleNamespace(addons=AddonCatalog(paths, HashCache(paths.cache_dir / "hashes.json")))
    router = APIRouter()
    for method, path, handler in addon_routes(ctx):
        router.add_api_route("/sdapi/v1" + path, handler, methods=[method])
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as test_client:
        yield test_client


def test_routes_table():
    ctx = SimpleNamespace(addons=None)
    assert [(m, p) for m, p, _ in addon_routes(ctx)] == [
        ("GET", "/sd-vae"), ("GET", "/loras"), ("POST", "/refresh-vae"), ("POST", "/refresh-loras")]


def test_sd_vae_lists_model_name_and_relative_filename(paths, client):
    assert client.get("/sdapi/v1/sd-vae").json() == []
    _blob(paths.vae_dirs[0] / "sub" / "kl-f8.safetensors")
    _blob(paths.ckpt_dirs[0] / "model.vae.pt")
    assert client.get("/sdapi/v1/sd-vae").json() == []  # not rescanned yet
    response = client.post("/sdapi/v1/refresh-vae")
    assert response.status_code == 200 and response.json() is None
    assert client.get("/sdapi/v1/sd-vae").json() == [
        {"model_name": "model.vae.pt", "filename": "model.vae.pt"},
        {"model_name": "kl-f8.safetensors", "filename": "sub/kl-f8.safetensors"},
    ]


def test_loras_list_name_alias_path_and_metadata(paths, client):
    lora = paths.lora_dirs[0]
    _safetensors(lora / "styles" / "ink_v2.safetensors",
                 {"ss_output_name": "ink", "ss_tag_frequency": json.dumps({"d": {"ink": 2}}), "ss_network_dim": "8"})
    _blob(lora / "old.pt")
    assert client.get("/sdapi/v1/loras").json() == []
    response = client.post("/sdapi/v1/refresh-loras")
    assert response.status_code == 200 and response.json() is None
    assert client.get("/sdapi/v1/loras").json() == [
        {"name": "old", "alias": "old", "path": "old.pt", "metadata": {}},
        {"name": "ink_v2", "alias": "ink", "path": "styles/ink_v2.safetensors",
         "metadata": {"ss_output_name": "ink", "ss_tag_frequency": {"d": {"ink": 2}}, "ss_network_dim": "8"}},
    ]


def test_listing_through_the_api_hashes_nothing(paths, client):
    _safetensors(paths.lora_dirs[0] / "l.safetensors", {"ss_output_name": "x"})
    _blob(paths.vae_dirs[0] / "v.pt")
    client.post("/sdapi/v1/refresh-vae")
    client.post("/sdapi/v1/refresh-loras")
    assert len(client.get("/sdapi/v1/loras").json()) == 1 and len(client.get("/sdapi/v1/sd-vae").json()) == 1
    assert not paths.cache_dir.exists()
