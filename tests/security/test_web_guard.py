"""Host allow-list (DNS rebinding), Origin checks on state-changing requests, CORS only when configured, body-size
limits, and what a server reachable from the network without a login refuses. All through the app as webui.py
builds it (API and mounted UI), no model loaded."""
from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.core.errors import SettingLocked
from modules.interfaces import cli
from modules.interfaces.credentials import exposure_warnings
from tests.conftest import REPO

LOCAL = "http://127.0.0.1:7860"


def build(data_dir, *flags: str, ui: bool = False, **kwargs) -> tuple[TestClient, object, object]:
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full", *flags], {},
                        install_dir=REPO)
    ctx = bootstrap.create_context(options)
    app = bootstrap.create_app(ctx, api=True, ui=ui, options=options)
    return TestClient(app, base_url=LOCAL, **kwargs), ctx, options


@pytest.fixture(scope="module")
def ui_client(tmp_path_factory):
    client, _, _ = build(tmp_path_factory.mktemp("guard-ui"), "--cors-allow-origins", "https://ok.example",
                         "--allowed-hosts", "sd.example.org", ui=True)
    with client:
        yield client


def test_foreign_host_names_are_refused_everywhere(ui_client):
    """Case 18 (DNS rebinding): a hostile name pointed at 127.0.0.1 reaches neither the API nor the UI."""
    for path in ("/sdapi/v1/options", "/", "/docs", "/config"):
        response = ui_client.get(path, headers={"Host": "rebind.evil.example:7860"})
        assert response.status_code == 400, path
        assert response.json()["error"] == "HostNotAllowed"
        assert "--allowed-hosts" in response.json()["detail"]
    for host in ("127.0.0.1:7860", "localhost:7860", "[::1]:7860", "192.168.1.20:7860", "mypc:7860",
                 "sd.example.org", "SD.Example.Org.:443"):
        assert ui_client.get("/sdapi/v1/options", headers={"Host": host}).status_code == 200, host


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:9999", "file://"])
def test_cross_site_state_changes_are_refused(ui_client, origin):
    """Case 18: a foreign or ``null`` Origin cannot change settings, start jobs or post to the UI's routes."""
    for path, kwargs in (("/sdapi/v1/options", {"json": {"samples_save": False}}),
                         ("/sdapi/v1/txt2img", {"json": {"prompt": "x", "steps": 1}}),
                         ("/sdapi/v1/interrupt", {}),
                         ("/gradio_api/queue/join", {"json": {}})):
        response = ui_client.post(path, headers={"Origin": origin}, **kwargs)
        assert response.status_code == 403, (path, response.status_code)
        assert response.json()["error"] == "OriginNotAllowed"
        assert "access-control-allow-origin" not in response.headers


def test_same_origin_and_allowlisted_origins_pass(ui_client):
    """Case 18: the UI's own page and an allowlisted origin still work; CORS answers only the allowlisted one."""
    assert ui_client.post("/sdapi/v1/interrupt", headers={"Origin": LOCAL}).status_code == 200
    assert ui_client.post("/sdapi/v1/interrupt", headers={"Origin": "https://sd.example.org",
                                                          "Host": "sd.example.org"}).status_code == 200
    allowed = ui_client.post("/sdapi/v1/interrupt", headers={"Origin": "https://ok.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ok.example"
    reading = ui_client.get("/sdapi/v1/options", headers={"Origin": "https://evil.example"})
    assert reading.status_code == 200 and "access-control-allow-origin" not in reading.headers


def test_simple_cross_site_bodies_are_refused_without_an_origin(ui_client):
    """Case 18: form-encoded and text/plain POSTs (no CORS preflight in a browser) never reach a route."""
    for path in ("/sdapi/v1/txt2img", "/sdapi/v1/options"):
        form = ui_client.post(path, data={"prompt": "x"})
        text = ui_client.post(path, content=b'{"prompt": "x"}', headers={"Content-Type": "text/plain"})
        assert form.status_code == text.status_code == 415, path


def test_no_cors_headers_without_an_allowlist(data_dir):
    """Case 18: without --cors-allow-origins no response carries Access-Control-Allow-Origin, preflights included."""
    client, _, _ = build(data_dir, ui=False)
    for response in (client.get("/sdapi/v1/options", headers={"Origin": "https://evil.example"}),
                     client.options("/sdapi/v1/options", headers={"Origin": "https://evil.example",
                                                                  "Access-Control-Request-Method": "POST"})):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_bodies_over_the_limit_get_413_before_parsing(data_dir):
    """Case 6: the body-size limit holds for a declared length and for a chunked body."""
    client, _, _ = build(data_dir, "--max-body-size", "1")
    big = b'{"prompt": "' + b"a" * (2 << 20) + b'"}'
    response = client.post("/sdapi/v1/txt2img", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "RequestTooLarge"

    def chunks(total: int):
        yield b'{"prompt": "'
        for _ in range(total):
            yield b"a" * 65536
        yield b'"}'
    chunked = client.post("/sdapi/v1/txt2img", content=chunks(32), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    small = client.post("/sdapi/v1/png-info", content=chunks(1), headers={"Content-Type": "application/json"})
    assert small.status_code == 422  # reached the route: a chunked body under the limit is replayed intact
    assert client.get("/sdapi/v1/options").status_code == 200


def test_default_bind_is_loopback_and_listen_without_login_disables_dangerous_features(data_dir, caplog):
    """Case 19: default 127.0.0.1; --listen without a login warns and refuses server stop, path settings and
    extension changes, from the API and from the UI's settings store alike."""
    assert cli.parse([], {}, install_dir=REPO).bind_host == "127.0.0.1"
    calls: list[str] = []
    client, ctx, options = build(data_dir, "--listen", "--api-server-stop")
    assert options.bind_host == "0.0.0.0"
    [warning] = exposure_warnings(options, ui=True)
    assert "NO authentication" in warning and "disabled" in warning
    for command in ("stop", "restart", "kill"):
        response = client.post(f"/sdapi/v1/server-{command}")
        assert response.status_code == 403 and "without a login" in response.json()["detail"], command
    for key, value in (("outdir_samples", "/tmp/elsewhere"), ("samples_filename_pattern", "../[seed]"),
                       ("disabled_extensions", ["example-frame"])):
        with pytest.raises(SettingLocked, match="without a login"):
            ctx.settings.update({key: value})  # what the Settings and Extensions tabs call
    assert ctx.settings.update({"samples_save": False}).get("samples_save") is False  # ordinary settings still work
    with caplog.at_level(logging.WARNING):
        assert client.post("/sdapi/v1/options", json={"outdir_samples": "/tmp/elsewhere"}).status_code == 403
    assert ctx.settings.current().get("outdir_samples") != "/tmp/elsewhere"


def test_with_a_login_the_listening_server_keeps_its_features(data_dir):
    """Case 19: with --gradio-auth the same server may change folders (from the UI) and has its stop routes."""
    client, ctx, options = build(data_dir, "--listen", "--gradio-auth", "alice:pw-Xq", "--api-server-stop")
    assert exposure_warnings(options, ui=True) == []
    ctx.settings.update({"outdir_samples": str(data_dir / "elsewhere")})
    assert ctx.settings.current().get("outdir_samples") == str(data_dir / "elsewhere")
    assert client.post("/sdapi/v1/server-stop").status_code == 401  # guarded by the login, not disabled


def test_no_secret_is_ever_echoed(data_dir, caplog):
    """Case 17: passwords and tokens appear in no response (cmd-flags, options, errors) and no log line."""
    secrets = ("Pw-api-Q81", "Pw-ui-Z72", "ngrok-T0k3n")
    client, _, _ = build(data_dir, "--api-auth", f"bot:{secrets[0]}", "--gradio-auth", f"alice:{secrets[1]}",
                         "--ngrok", secrets[2], "--api-log")
    with caplog.at_level(logging.DEBUG):
        answers = [client.get("/sdapi/v1/cmd-flags", auth=("bot", secrets[0])),
                   client.get("/sdapi/v1/options", auth=("bot", secrets[0])),
                   client.get("/sdapi/v1/options", auth=("bot", secrets[1])),  # wrong password: 401
                   client.get("/sdapi/v1/options", auth=("bot", "wrong" + secrets[0])),
                   client.post("/sdapi/v1/txt2img", json={"steps": -1, "url": "x", "auth": f"u:{secrets[0]}"},
                               auth=("bot", secrets[0])),
                   client.get("/sdapi/v1/no-such-route", auth=("bot", secrets[0]))]
    assert [a.status_code for a in answers[:4]] == [200, 200, 401, 401]
    for answer in answers:
        assert not any(secret in answer.text for secret in secrets), answer.request.url
    assert not any(secret in caplog.text for secret in secrets)
    assert "/sdapi/v1/options" in caplog.text  # the API log did record the requests
