"""Case 15: the file-serving routes of the mounted UI (Gradio's ``file=`` routes, static and asset routes) never
serve a file outside the folders they are meant for, however the path is spelled."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.interfaces import cli
from tests.conftest import REPO

MARKER = "SECRET-7f3a9"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    data_dir = root / "data"
    data_dir.mkdir()
    (data_dir / "config.json").write_text('{"note": "%s"}' % MARKER)
    (root / "secret.txt").write_text(MARKER)
    (data_dir / "outputs").mkdir()
    (data_dir / "outputs" / "page.html").write_text(f"<script>alert('{MARKER}')</script>")
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all"], {}, install_dir=REPO)
    app = bootstrap.create_app(bootstrap.create_context(options), api=True, ui=True, options=options)
    with TestClient(app, base_url="http://127.0.0.1:7860") as test_client:
        test_client.root, test_client.data_dir = root, data_dir
        yield test_client


def _targets(client) -> list[str]:
    secret, config = client.root / "secret.txt", client.data_dir / "config.json"
    return [str(secret), str(config), "/etc/passwd", "../../../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd",
            "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "%252e%252e/%252e%252e/etc/passwd", "//etc/passwd",
            "..\\..\\..\\etc\\passwd", "C:/Windows/win.ini", "C:\\Windows\\win.ini", "config.json::$DATA",
            f"{client.data_dir}/outputs/../config.json", f"{client.data_dir}/outputs/page.html"]


PREFIXES = ["/file=", "/gradio_api/file=", "/gradio_api/file/", "/static/", "/assets/", "/gradio_api/static/",
            "/gradio_api/assets/", "/custom_component/x/y/", "/sdapi/v1/../../"]


def test_nothing_outside_the_allowed_folders_is_served(client):
    served = []
    for prefix in PREFIXES:
        for target in _targets(client):
            response = client.get(prefix + target)
            if response.status_code < 400 or MARKER in response.text or "root:" in response.text:
                served.append((prefix + target, response.status_code))
    assert not served, served


def test_html_in_the_outputs_folder_is_not_rendered_as_a_page(client):
    """An HTML file dropped into outputs is never served as ``text/html`` (stored XSS, CVE-2024-10099 class)."""
    for prefix in ("/file=", "/gradio_api/file="):
        response = client.get(prefix + str(client.data_dir / "outputs" / "page.html"))
        assert response.status_code >= 400 or "text/html" not in response.headers.get("content-type", "")
