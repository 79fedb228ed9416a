"""Tests for ``GET /sdapi/v1/prompt-styles`` and the ``styles`` field of the txt2img body."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from modules.core.style_store import StyleStore
from modules.interfaces.http_api.schemas import Txt2ImgBody
from modules.interfaces.http_api.style_routes import style_routes


@pytest.fixture
def styles_file(tmp_path):
    path = tmp_path / "styles.csv"
    path.write_text('name,prompt,negative_prompt\n# divider,,\nCinema,"{prompt}, film grain",cartoon\nPlain,,\n',
                    encoding="utf-8-sig")
    return path


@pytest.fixture
def client(styles_file):
    ctx = SimpleNamespace(styles=StyleStore([styles_file]))
    router = APIRouter()
    for method, path, handler in style_routes(ctx):
        router.add_api_route("/sdapi/v1" + path, handler, methods=[method])
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as test_client:
        test_client.ctx = ctx
        yield test_client


def test_prompt_styles_lists_a1111_shape(client):
    response = client.get("/sdapi/v1/prompt-styles")
    assert response.status_code == 200
    assert response.json() == [{"name": "Cinema", "prompt": "{prompt}, film grain", "negative_prompt": "cartoon"},
                               {"name": "Plain", "prompt": "", "negative_prompt": ""}]


def test_prompt_styles_follow_saved_edits(client):
    from modules.core.styles import PromptStyle

    client.ctx.styles.save_style(PromptStyle("New", "new text"))
    assert [s["name"] for s in client.get("/sdapi/v1/prompt-styles").json()] == ["Cinema", "Plain", "New"]


@pytest.mark.parametrize("body,expected", [
    ({}, ()), ({"styles": None}, ()), ({"styles": []}, ()), ({"styles": ["Cinema", "Nope"]}, ("Cinema", "Nope")),
])
def test_txt2img_body_carries_styles(body, expected):
    assert Txt2ImgBody(**body).to_core().styles == expected
