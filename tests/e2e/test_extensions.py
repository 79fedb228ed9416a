"""Extensions on pluggy with the real backend: discovery, isolation of broken ones, the example extension's
control values reaching its hooks (UI request and API ``alwayson_scripts``), infotext, routes behind auth."""
from __future__ import annotations

import base64
import io
import json
import shutil

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from modules import bootstrap
from modules.core.extension_choice import choice_settings
from modules.core.params import Txt2ImgRequest
from tests.conftest import REPO, install_checkpoint

EXAMPLE = REPO / "extensions" / "example-frame"
BROKEN = "def oops(:\n"
RAISING = '''from modules.extensions_api import hookimpl

@hookimpl
def postprocess_image(image, request):
    raise RuntimeError("boom")
'''


@pytest.fixture
def ext_dir(data_dir, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    root = data_dir / "extensions"
    shutil.copytree(EXAMPLE, root / "example-frame")
    for name, code in (("broken", BROKEN), ("raising", RAISING)):
        (root / name).mkdir(parents=True)
        (root / name / "extension.py").write_text(code, encoding="utf-8")
    (root / "a1111-style" / "scripts").mkdir(parents=True)
    return root


def _enable(data_dir, *names):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.json").write_text(json.dumps({"enabled_extensions": list(names)}), encoding="utf-8")


def _request(**kw):
    return Txt2ImgRequest(prompt="a cat", steps=2, width=64, height=64, seed=4, sampler_name="Euler",
                          save_images=False, **kw)


def test_discovery_defaults_and_isolation(ext_dir, make_context):
    ctx = make_context()
    records = {r.name: r for r in ctx.extensions.records()}
    assert records["prompt-styles"].builtin and records["prompt-styles"].error is None
    assert not records["example-frame"].enabled, "the example is off by default"
    assert records["broken"].error.startswith("import failed: SyntaxError")
    assert "AUTOMATIC1111 script extension" in records["a1111-style"].error
    assert records["raising"].enabled and records["raising"].error is None
    result = ctx.generation.txt2img(_request())
    assert len(result.images) == 1, "a raising hook does not break the job"
    assert "RuntimeError: boom" in {r.name: r for r in ctx.extensions.records()}["raising"].error


def test_example_extension_control_values_reach_its_hooks(ext_dir, data_dir, make_context):
    _enable(data_dir, "example-frame")
    ctx = make_context()
    assert {r.name: r for r in ctx.extensions.records()}["example-frame"].enabled
    plain = ctx.generation.txt2img(_request()).images[0]
    unused = ctx.generation.txt2img(_request(extension_args={"example-frame": {"enabled": False}})).images[0]
    framed = ctx.generation.txt2img(_request(extension_args={
        "example-frame": {"enabled": True, "colour": "blue", "width": 3}})).images[0]
    assert list(unused.image.getdata()) == list(plain.image.getdata()) and "Frame" not in plain.infotext
    assert framed.image.getpixel((0, 0)) == (40, 80, 220) and framed.image.getpixel((2, 32)) == (40, 80, 220)
    assert framed.image.getpixel((32, 32)) == plain.image.getpixel((32, 32)), "only the frame changes"
    assert ", Frame: blue 3px" in framed.infotext


def test_example_extension_through_the_api_and_its_route_behind_auth(ext_dir, data_dir, make_context):
    _enable(data_dir, "example-frame")
    args = ["--api-auth", "user:secret"]
    ctx = make_context(*args)
    from modules.interfaces import cli
    options = cli.parse(["--data-dir", str(data_dir), *args], {}, install_dir=REPO)
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False, options=options)) as client:
        assert client.get("/example-frame/colours").status_code == 401
        assert client.get("/example-frame/colours", auth=("user", "secret")).json() == ["red", "green", "blue"]
        body = {"prompt": "a cat", "steps": 2, "width": 64, "height": 64, "seed": 4, "sampler_name": "Euler",
                "alwayson_scripts": {"Example-Frame": {"args": {"enabled": True, "colour": "green", "width": 2}},
                                     "ControlNet": {"args": []}}}
        data = client.post("/sdapi/v1/txt2img", json=body, auth=("user", "secret")).json()
    info = json.loads(data["info"])
    image = Image.open(io.BytesIO(base64.b64decode(data["images"][0]))).convert("RGB")
    assert image.getpixel((1, 1)) == (30, 170, 60) and "Frame: green 2px" in info["infotexts"][0]
    assert info["warnings"] == ["alwayson_scripts: 'ControlNet' is not installed; ignored"]


def test_extensions_tab_choices_become_the_two_settings_lists(ext_dir, make_context):
    ctx = make_context()
    changes = choice_settings(ctx.extensions.records(), ["example-frame"])
    assert changes == {"enabled_extensions": ["example-frame"], "disabled_extensions": ["broken", "raising"]}
    ctx.settings.update(changes)
    again = make_context()
    records = {r.name: r for r in again.extensions.records()}
    assert records["example-frame"].enabled and not records["raising"].enabled


def test_disable_all_extensions_keeps_the_built_in_ones(ext_dir, data_dir, make_context):
    _enable(data_dir, "example-frame")
    ctx = make_context("--disable-all-extensions")
    records = {r.name: r for r in ctx.extensions.records()}
    assert records["prompt-styles"].enabled and not records["example-frame"].enabled
    assert ctx.extensions.loaded_names() == frozenset({"prompt-styles"})
