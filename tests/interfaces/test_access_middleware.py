"""The access middleware around the API: CORS allowlist only, JSON-only bodies, X-Process-Time and --api-log."""
from __future__ import annotations

import base64
import logging

import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.interfaces import cli
from tests.conftest import REPO

GOOD = "http://good.example:3000"
EVIL = "http://evil.example"
LOGIN = ("bot", "pa:ss")


@pytest.fixture
def make_client(data_dir):
    """``make_client(*flags)`` -> TestClient over the API-only app built by create_app."""
    clients = []

    def build(*flags: str) -> TestClient:
        options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full", "--nowebui",
                             *flags], {}, install_dir=REPO)
        app = bootstrap.create_app(bootstrap.create_context(options), api=True, ui=False, options=options)
        clients.append(TestClient(app).__enter__())
        return clients[-1]
    yield build
    for client in clients:
        client.__exit__(None, None, None)


def preflight(client: TestClient, origin: str):
    return client.options("/sdapi/v1/options", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})


def test_no_cors_headers_by_default(make_client):
    client = make_client()
    for response in (client.get("/sdapi/v1/options", headers={"Origin": EVIL}), preflight(client, EVIL),
                     client.get("/docs", headers={"Origin": "null"})):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], response.headers


def test_cors_allowlist_with_auth_on(make_client):
    client = make_client("--cors-allow-origins", f"{GOOD}, http://other.example", "--api-auth", "bot:pa:ss")
    allowed = preflight(client, GOOD)
    assert allowed.status_code == 200, "a preflight carries no credentials and must not need them"
    assert allowed.headers["access-control-allow-origin"] == GOOD
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in preflight(client, EVIL).headers
    ok = client.get("/sdapi/v1/options", headers={"Origin": GOOD}, auth=LOGIN)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == GOOD
    refused = client.get("/sdapi/v1/options", headers={"Origin": GOOD})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == GOOD
    foreign = client.get("/sdapi/v1/options", headers={"Origin": EVIL}, auth=LOGIN)
    assert "access-control-allow-origin" not in foreign.headers
    assert client.post("/sdapi/v1/options", headers={"Origin": EVIL}, json={}).status_code == 403  # cross-site


def test_cors_origin_regex_must_match_the_whole_origin(make_client):
    client = make_client("--cors-allow-origins-regex", r"https://[a-z]+\.example\.org")
    assert preflight(client, "https://app.example.org").headers["access-control-allow-origin"] == \
        "https://app.example.org"
    for origin in ("https://app.example.org.evil.com", "http://app.example.org", "null"):
        assert "access-control-allow-origin" not in preflight(client, origin).headers


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/jsonp", None])
def test_api_bodies_must_be_json(make_client, content_type):
    client = make_client()
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/sdapi/v1/options", content=b'{"samples_format": "png"}', headers=headers)
    assert response.status_code == 415
    assert set(response.json()) == {"error", "detail", "body", "errors"} and "application/json" in response.text


def test_json_and_bodiless_posts_pass(make_client):
    client = make_client()
    for content_type in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        response = client.post("/sdapi/v1/options", content=b"{}", headers={"Content-Type": content_type})
        assert response.status_code == 200, content_type
    assert client.post("/sdapi/v1/interrupt").status_code == 200, "webuiapi sends no body and no content type"
    assert client.post("/sdapi/v1/interrupt", headers={"Content-Length": "0", "Content-Type": "text/plain"}
                       ).status_code == 200


def test_auth_is_checked_before_the_content_type(make_client):
    client = make_client("--api-auth", "bot:pa:ss")
    assert client.post("/sdapi/v1/options", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 401
    assert client.post("/sdapi/v1/options", content=b"x", headers={"Content-Type": "text/plain"},
                       auth=LOGIN).status_code == 415


def test_every_response_has_x_process_time(make_client):
    client = make_client("--api-auth", "bot:pa:ss")
    responses = [client.get("/sdapi/v1/options", auth=LOGIN), client.get("/sdapi/v1/options"),
                 client.get("/nope", auth=LOGIN), client.post("/sdapi/v1/options", content=b"x", auth=LOGIN,
                                                              headers={"Content-Type": "text/plain"}),
                 client.get("/docs", auth=LOGIN), preflight(client, GOOD)]
    assert [r.status_code for r in responses][:5] == [200, 401, 404, 415, 200]
    for response in responses:
        assert 0 <= float(response.headers["x-process-time"]) < 60


def test_api_log_names_the_request_but_no_secret(make_client, caplog):
    client = make_client("--api-auth", "bot:pa:ss", "--api-log")
    with caplog.at_level(logging.DEBUG):
        client.post("/sdapi/v1/options?token=q", json={"auth": "secret", "samples_format": "png"}, auth=LOGIN,
                    cookies={"session": "cookie-value"})
        client.get("/sdapi/v1/progress", auth=("bot", "wrong-password"))
        client.get("/sdapi/v1/x%0D%0AINFO forged line")
    lines = [r.getMessage() for r in caplog.records if r.name == "modules.interfaces.http_api.access"]
    assert len(lines) == 3 and "\n" not in lines[2] and "\r" not in lines[2] and "/x%0D%0AINFO" in lines[2]
    assert lines[0].startswith("API POST /sdapi/v1/options -> 200 in ") and lines[0].endswith(" ms from testclient")
    assert lines[1].startswith("API GET /sdapi/v1/progress -> 401 in ")
    text = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))  # server side only
    for secret in ("secret", "pa:ss", "wrong-password", base64.b64encode(b"bot:pa:ss").decode(), "cookie-value",
                   "token=q", "samples_format"):
        assert secret not in text


def test_no_request_log_without_the_flag(make_client, caplog):
    client = make_client()
    with caplog.at_level(logging.DEBUG, logger="modules.interfaces.http_api.access"):
        client.get("/sdapi/v1/progress")
    assert not [r for r in caplog.records if r.name == "modules.interfaces.http_api.access"]


def test_websockets_outside_the_ui_need_the_login_too(make_client):
    from starlette.websockets import WebSocketDisconnect

    client = make_client("--api-auth", "bot:pa:ss")
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect("/sdapi/v1/stream"):
        pass
    assert exc.value.code == 1008


def test_an_unexpected_error_is_a_timed_json_500_logged_once(make_client, caplog):
    client = make_client("--api-log")
    client.app.add_api_route("/sdapi/v1/broken", lambda: 1 / 0)
    with caplog.at_level(logging.INFO):
        response = TestClient(client.app, raise_server_exceptions=False).get("/sdapi/v1/broken")
    assert response.status_code == 500 and float(response.headers["x-process-time"]) >= 0
    assert response.json()["error"] == "ZeroDivisionError" and "Traceback" not in response.text
    assert len([r for r in caplog.records if r.exc_info]) == 1
    assert any("GET /sdapi/v1/broken -> 500" in r.getMessage() for r in caplog.records)
