"""``cmd-flags`` (secrets redacted), ``memory``, ``extensions``, ``server-*`` behind ``--api-server-stop``, and
``png-info`` over PNG, JPEG and WEBP, through the real app (no model is loaded)."""
from __future__ import annotations

import base64
import io

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules import bootstrap
from modules.core.image_metadata import EXIF_IFD, USER_COMMENT
from modules.interfaces import cli
from modules.interfaces.http_api.errors import install_error_handlers
from modules.interfaces.http_api.routes import build_router
from tests.conftest import REPO

TEXT = "a cat\nNegative prompt: dog\nSteps: 2, Sampler: Euler a, CFG scale: 7.0, Seed: 5, Size: 64x48, Clip skip: 2"


def app_for(data_dir, *args: str, **router_kwargs) -> tuple[TestClient, object]:
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", *args], {}, install_dir=REPO)
    ctx = bootstrap.create_context(options)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_router(ctx, options, **router_kwargs))
    return TestClient(app), ctx


def test_cmd_flags_redact_secrets(data_dir):
    client, _ = app_for(data_dir, "--api-auth", "alice:SECRET1", "--gradio-auth", "bob:SECRET2", "--ngrok",
                        "SECRET3", "--some-extension-flag=SECRET4", "--api-log")
    response = client.get("/sdapi/v1/cmd-flags")
    flags = response.json()
    assert "SECRET" not in response.text
    assert flags["api_auth"] == flags["gradio_auth"] == flags["ngrok"] == "<redacted>"
    assert flags["api_log"] is True and flags["data_dir"] == str(data_dir) and flags["styles_file"] == []


def test_cmd_flags_without_options_are_parser_defaults(make_context):
    ctx = make_context()
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as client:
        flags = client.get("/sdapi/v1/cmd-flags").json()
    assert flags["api_auth"] is None and flags["nowebui"] is False and flags["timeout_keep_alive"] == 30


def test_server_routes_need_the_flag(data_dir):
    calls: list[str] = []
    client, _ = app_for(data_dir, server_control=calls.append)
    assert client.post("/sdapi/v1/server-stop").status_code == 404 and calls == []
    client, _ = app_for(data_dir, "--api-server-stop", server_control=calls.append)
    for command in ("kill", "restart", "stop"):
        assert client.post(f"/sdapi/v1/server-{command}").json() == {}
    assert calls == ["kill", "restart", "stop"]


def test_memory_with_and_without_a_device_probe(data_dir):
    client, _ = app_for(data_dir)
    memory = client.get("/sdapi/v1/memory").json()
    assert memory["cuda"] == {"error": "unavailable"} and memory["ram"]["total"] > memory["ram"]["free"] > 0
    client, _ = app_for(data_dir, cuda_memory=lambda: {"system": {"free": 1, "used": 2, "total": 3}})
    assert client.get("/sdapi/v1/memory/").json()["cuda"]["system"]["total"] == 3

    def broken() -> dict:
        raise RuntimeError("driver gone")
    client, _ = app_for(data_dir, cuda_memory=broken)
    assert client.get("/sdapi/v1/memory").json()["cuda"] == {"error": "driver gone"}


def test_extensions_listing(data_dir):
    (data_dir / "extensions" / "tidy").mkdir(parents=True)
    (data_dir / "extensions" / "tidy" / "extension.toml").write_text('version = "0.3"\n')
    client, ctx = app_for(data_dir)
    assert client.get("/sdapi/v1/extensions").json() == [
        {"name": "tidy", "remote": None, "branch": None, "commit_hash": "", "commit_date": None,
         "version": "0.3", "enabled": True}]


def encoded(image: Image.Image, fmt: str, prefix: bool = False, **kwargs) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/{fmt.lower()};base64,{data}" if prefix else data


def test_png_info_formats(data_dir):
    client, _ = app_for(data_dir)
    picture = Image.new("RGB", (16, 16), "blue")
    chunks = PngInfo()
    chunks.add_text("parameters", TEXT)
    chunks.add_text("Software", "test")
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = b"UNICODE\x00" + TEXT.encode("utf-16-be")
    for image in (encoded(picture, "PNG", prefix=True, pnginfo=chunks), encoded(picture, "JPEG", exif=exif),
                  encoded(picture, "WEBP", prefix=True, exif=exif)):
        data = client.post("/sdapi/v1/png-info", json={"image": image}).json()
        assert data["info"] == TEXT
        params = data["parameters"]
        assert params["Prompt"] == "a cat" and params["Negative prompt"] == "dog" and params["Seed"] == "5"
        assert params["Size-1"] == 64 and params["Size-2"] == 48 and params["Clip skip"] == "2"
    assert client.post("/sdapi/v1/png-info", json={"image": encoded(picture, "PNG", pnginfo=chunks)}).json()[
        "items"] == {"Software": "test"}
    empty = client.post("/sdapi/v1/png-info", json={"image": encoded(picture, "PNG")}).json()
    assert empty["info"] == "" and empty["items"] == {} and empty["parameters"]["Prompt"] == ""
    for bad in ({"image": "not base64!"}, {"image": ""}, {}):
        response = client.post("/sdapi/v1/png-info", json=bad)
        assert response.status_code == 422 and "error" in response.json()
