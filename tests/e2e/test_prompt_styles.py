"""Prompt styles through the real HTTP app and backend: listed, applied before generation, shown in infotext."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from tests.conftest import install_checkpoint


@pytest.fixture
def client(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "alpha.safetensors")
    (data_dir / "styles.csv").write_text(
        'name,prompt,negative_prompt\nCinema,"{prompt}, film grain",cartoon\nSharp,sharp focus,blurry\n',
        encoding="utf-8-sig")
    ctx = make_context()
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as test_client:
        test_client.ctx = ctx
        yield test_client


def test_prompt_styles_route_lists_the_data_dir_styles_csv(client):
    response = client.get("/sdapi/v1/prompt-styles/")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "Cinema", "prompt": "{prompt}, film grain", "negative_prompt": "cartoon"},
        {"name": "Sharp", "prompt": "sharp focus", "negative_prompt": "blurry"}]


def _generate(client, **extra) -> dict:
    body = {"prompt": "a cat", "negative_prompt": "text", "steps": 1, "width": 64, "height": 64, "seed": 3,
            "sampler_name": "Euler", **extra}
    response = client.post("/sdapi/v1/txt2img", json=body)
    assert response.status_code == 200, response.text
    return json.loads(response.json()["info"])


def test_styles_are_applied_in_order_and_unknown_names_ignored(client):
    info = _generate(client, styles=["Cinema", "Missing", "Sharp"])
    assert info["infotexts"][0].startswith(
        "a cat, film grain, sharp focus\nNegative prompt: text, cartoon, blurry\nSteps: 1,")
    assert info["prompt"] == "a cat, film grain, sharp focus"
    assert info["styles"] == ["Cinema", "Missing", "Sharp"]
    plain = _generate(client)
    assert plain["infotexts"][0].startswith("a cat\nNegative prompt: text\nSteps: 1,")


def test_comments_are_stripped_unless_the_setting_is_off(client):
    info = _generate(client, prompt="a cat # with a hat\nsitting", negative_prompt="# none")
    assert info["infotexts"][0].startswith("a cat \nsitting\nNegative prompt: \n\nSteps: 1,")
    kept = _generate(client, prompt="a cat # with a hat", override_settings={"enable_prompt_comments": False})
    assert kept["infotexts"][0].startswith("a cat # with a hat\nNegative prompt: text\nSteps: 1,")


def test_styles_apply_before_comments_are_stripped(client, data_dir):
    (data_dir / "styles.csv").write_text('name,prompt,negative_prompt\nNoted,"{prompt} # from a style\nsharp",\n',
                                         encoding="utf-8-sig")
    assert client.get("/sdapi/v1/prompt-styles").json()[0]["name"] == "Cinema"  # read at start-up, as A1111
    client.ctx.styles.reload()
    info = _generate(client, styles=["Noted"])
    assert info["infotexts"][0].startswith("a cat \nsharp\nNegative prompt: text\nSteps: 1,")
