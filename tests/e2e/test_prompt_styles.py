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
