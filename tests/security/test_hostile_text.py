"""Case 4: hostile prompt text (megabyte prompts, NUL bytes, lone surrogates, bidirectional overrides) is handled:
refused with a precise 422, or generated with metadata that is valid UTF-8 and reads back through ``/png-info``."""
from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from tests.support.api_client import api_client


BODY = {"steps": 1, "width": 64, "height": 64, "seed": 4, "sampler_name": "Euler", "save_images": True}


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_checkpoint):
    with api_client(tmp_path_factory.mktemp("text") / "data", checkpoint=tiny_checkpoint("sd15")) as test_client:
        yield test_client


def _post(client, prompt: str, negative: str = ""):
    raw = json.dumps({**BODY, "prompt": prompt, "negative_prompt": negative}, ensure_ascii=True)
    return client.post("/sdapi/v1/txt2img", content=raw.encode(), headers={"Content-Type": "application/json"})


def test_a_megabyte_prompt_is_a_clear_422(client):
    for field in ("prompt", "negative_prompt"):
        response = client.post("/sdapi/v1/txt2img", json={**BODY, "prompt": "x", field: "cat, " * 250_000})
        assert response.status_code == 422 and "longer than" in response.json()["detail"], field


@pytest.mark.parametrize("prompt", ["a cat\u0000with a hidden tail", "\u202egnp.exe a cat \u202c and \u2066isolate",
                                    "zero\u200bwidth, \ufeffbom, emoji \U0001F431, ünïcödé",
                                    "a cat\nNegative prompt: fake\nSteps: 999, Seed: 1"])
def test_odd_but_valid_text_generates_and_reads_back(client, prompt):
    """NUL, bidi overrides, zero-width and emoji: the job runs; the PNG's parameters are valid UTF-8 and
    ``/png-info`` gives the prompt back (a prompt that imitates infotext lines stays the prompt)."""
    response = _post(client, prompt, negative="bad \u202e hands")
    assert response.status_code == 200, response.text
    data = response.json()
    png = base64.b64decode(data["images"][0])
    text = Image.open(io.BytesIO(png)).info["parameters"]
    text.encode("utf-8")  # valid UTF-8 (raises otherwise)
    info = client.post("/sdapi/v1/png-info", json={"image": data["images"][0]}).json()
    assert info["parameters"]["Seed"] in (4, "4") and info["parameters"]["Steps"] in (1, "1")
    assert info["parameters"]["Prompt"] == prompt or info["info"].startswith(prompt), info
    saved = [p for p in (client.data_dir / "outputs").rglob("*.png")]
    assert saved and all(p.stat().st_size > 0 for p in saved)


@pytest.mark.parametrize("text", ["lone \ud800 surrogate", "reversed \udc00\ud800 pair"])
def test_lone_surrogates_are_refused_with_the_field_named(client, text):
    """JSON can carry a lone surrogate that no UTF-8 file can hold: 422 naming the field, not a crash."""
    for field in ("prompt", "negative_prompt"):
        body = {**BODY, "prompt": "x", field: text}
        response = client.post("/sdapi/v1/txt2img", content=json.dumps(body).encode(),
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 422 and field in response.json()["detail"], response.text
    assert client.post("/sdapi/v1/txt2img", json={**BODY, "prompt": "after"}).status_code == 200
