"""Acceptance: with auth on, EVERY route outside the Gradio UI (walked from the app's own route table, so routes added
later are covered) answers 401 without or with wrong credentials, and the UI needs Gradio's login."""
from __future__ import annotations

import base64
import re

import fastapi.routing
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from modules import bootstrap
from modules.interfaces import cli
from tests.conftest import REPO

DUMMY = {"int": "1", "float": "1.5", "uuid": "00000000-0000-0000-0000-000000000000", "path": "a/b"}
API_LOGIN = ("bot", "k:e:y-Zq7x")
UI_LOGIN = ("alice", "wonder land Wq9")


def build_app(data_dir, *flags: str, ui: bool = False) -> FastAPI:
    """The app exactly as webui.py builds it (API on), for these flags."""
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full", *flags], {},
                        install_dir=REPO)
    return bootstrap.create_app(bootstrap.create_context(options), api=True, ui=ui, options=options)


def _fill(path: str) -> str:
    """Replace ``{name}`` / ``{name:type}`` path parameters with a value of the right type."""
    return re.sub(r"\{\w+(?::(\w+))?\}", lambda m: DUMMY.get(m.group(1), "x"), path) or "/"


def route_requests(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) for every route of the app but the Gradio mount: API routes, docs, anything added later."""
    walk = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)  # FastAPI >= 0.160 nests routers
    found = []
    for route in walk(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            if not type(original.app).__module__.startswith("gradio"):
                found.append(("GET", _fill(original.path) + "/"))
            continue
        found.extend((method, _fill(route.path)) for method in sorted(route.methods or {"GET"}))
    return found


def assert_refused(response) -> None:
    assert response.status_code == 401, (response.request.method, response.request.url, response.status_code)
    assert response.headers["www-authenticate"].startswith("Basic ")
    if response.request.method != "HEAD":
        assert set(response.json()) == {"error", "detail", "body", "errors"}
        assert response.json()["error"] == "Unauthorized"


def assert_every_route_guarded(client: TestClient, login: tuple[str, str]) -> None:
    requests = route_requests(client.app)
    paths = {path for _, path in requests}
    assert {"/docs", "/redoc", "/openapi.json", "/sdapi/v1/options", "/sdapi/v1/options/"} <= paths
    assert len(requests) > 40
    wrong = [None, (login[0], login[1] + "x"), (login[0], ""), ("", login[1]), ("nobody", login[1])]
    for method, path in requests:
        for auth in wrong:
            assert_refused(client.request(method, path, auth=auth))
    for path in ("/docs", "/redoc", "/openapi.json", "/sdapi/v1/options", "/sdapi/v1/samplers/"):
        assert client.get(path, auth=login).status_code == 200, path
    for path in sorted({path for method, path in requests if method == "GET"}):
        response = client.get(path, auth=login)
        assert response.status_code != 401, path
        assert "Zq7x" not in response.text and "Wq9" not in response.text, f"a password leaks from {path}"


@pytest.fixture
def api_client(data_dir):
    app = build_app(data_dir, "--api-auth", f"{API_LOGIN[0]}:{API_LOGIN[1]},other:pw", "--nowebui")
    extra = APIRouter()  # what another developer or an extension might add after create_app
    extra.add_api_route("/sdapi/v2/items/{item_id:int}", lambda item_id: {"id": item_id}, methods=["GET", "DELETE"])
    extra.add_api_route("/internal/{name}", lambda name: {"name": name}, methods=["POST"])
    app.include_router(extra)
    with TestClient(app) as client:
        yield client


def test_every_api_only_route_needs_the_api_login(api_client):
    """Case 16: the whole route table, API-only."""
    assert ("DELETE", "/sdapi/v2/items/1") in route_requests(api_client.app), "the walk sees routes added later"
    assert_every_route_guarded(api_client, API_LOGIN)
    assert api_client.get("/sdapi/v2/items/7", auth=API_LOGIN).json() == {"id": 7}
    assert api_client.get("/sdapi/v1/options", auth=("other", "pw")).status_code == 200
    for path in ("/", "/nope", "/sdapi/v2/unknown", "/gradio_api/info"):  # unknown paths too: nothing to probe
        assert_refused(api_client.get(path))


def test_malformed_or_empty_authorization_headers_are_refused(api_client):
    token = base64.b64encode(f"{API_LOGIN[0]}:{API_LOGIN[1]}".encode()).decode()
    assert api_client.get("/sdapi/v1/options", headers={"Authorization": f"Basic {token}"}).status_code == 200
    for header in ("", "Basic", "Basic ", f"Bearer {token}", "Basic !!!", "Basic " + base64.b64encode(b"bot").decode(),
                   "Basic " + base64.b64encode(b"\xff\xfe:x").decode()):
        assert_refused(api_client.get("/sdapi/v1/options", headers={"Authorization": header}))


def test_api_falls_back_to_the_gradio_logins(data_dir):
    with TestClient(build_app(data_dir, "--gradio-auth", f"{UI_LOGIN[0]}:{UI_LOGIN[1]}", "--nowebui")) as client:
        assert_refused(client.get("/sdapi/v1/options"))
        assert client.get("/sdapi/v1/options", auth=UI_LOGIN).status_code == 200


def test_without_auth_an_empty_authorization_header_is_harmless(data_dir):
    with TestClient(build_app(data_dir, "--nowebui")) as client:
        assert client.get("/sdapi/v1/options", headers={"Authorization": ""}).status_code == 200
        assert client.post("/sdapi/v1/interrupt", headers={"Authorization": ""}).status_code == 200
        assert client.get("/sdapi/v1/options", auth=("any", "thing")).status_code == 200


@pytest.fixture(scope="module")
def ui_client(tmp_path_factory):
    app = build_app(tmp_path_factory.mktemp("ui-auth"), "--api-auth", f"{API_LOGIN[0]}:{API_LOGIN[1]}",
                    "--gradio-auth", f"{UI_LOGIN[0]}:{UI_LOGIN[1]}", ui=True)
    with TestClient(app) as client:
        yield client


@pytest.mark.slow
def test_with_the_ui_every_other_route_needs_the_api_login(ui_client):
    """Case 16: the whole route table with the UI mounted."""
    assert any(isinstance(r, Mount) for r in ui_client.app.routes), "the UI is mounted"
    assert_every_route_guarded(ui_client, API_LOGIN)
    assert_refused(ui_client.get("/sdapi/v1/options", auth=UI_LOGIN))  # --api-auth given: only it opens the API
    assert_refused(ui_client.get("/sdapi/v9/not-yet-written"))


@pytest.mark.slow
def test_the_ui_needs_the_gradio_login(ui_client):
    """Case 16: UI, static and internal routes need the UI login."""
    ui_client.cookies.clear()
    assert ui_client.get("/").status_code == 200, "the page itself (login form) needs no Basic credentials"
    assert ui_client.get("/config").status_code == 401
    assert ui_client.get("/config", auth=API_LOGIN).status_code == 401, "Basic credentials are not a UI login"
    assert ui_client.post("/login", data={"username": UI_LOGIN[0], "password": "wrong"}).status_code == 400
    assert ui_client.post("/login", data={"username": API_LOGIN[0], "password": API_LOGIN[1]}).status_code == 400
    assert ui_client.post("/login", data={"username": UI_LOGIN[0], "password": UI_LOGIN[1]}).status_code == 200
    config = ui_client.get("/config")
    assert config.status_code == 200 and "components" in config.json()
    assert_refused(ui_client.get("/sdapi/v1/options"))  # the UI cookie does not open the API
    ui_client.cookies.clear()


@pytest.mark.slow
def test_ui_responses_carry_no_gradio_cors_headers_and_a_process_time(ui_client):
    for path in ("/", "/config", "/gradio_api/info"):
        response = ui_client.get(path, headers={"Origin": "http://evil.example"})
        assert float(response.headers["x-process-time"]) >= 0
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], (path, response.headers)
