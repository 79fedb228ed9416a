"""A real server subprocess on a free port and a headless Chromium page on it, shared by the browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_data(data_dir) -> Path:
    """The data folder the server starts on; a test module overrides this to put files there first."""
    return data_dir


@contextmanager
def running_webui(data: Path, log_path: Path, *extra_args: str) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of ``webui.py`` running on the data folder `data` (CPU, fp32) until the block
    ends; its output goes to `log_path`."""
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", COMMANDLINE_ARGS="")
    log = log_path.open("w")
    proc = subprocess.Popen([sys.executable, str(REPO / "webui.py"), "--data-dir", str(data),
                             "--port", str(port), "--use-cpu", "all", "--precision", "full", *extra_args],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    text = ""
    while time.time() < deadline and proc.poll() is None:
        text = log_path.read_text()
        if f"Running on local URL:  http://127.0.0.1:{port}" in text:
            break
        time.sleep(0.3)
    else:
        proc.kill()
        log.close()
        pytest.fail(f"server did not start:\n{text}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
        log.close()


@pytest.fixture
def server(server_data, tmp_path):
    """``http://127.0.0.1:<port>`` of ``webui.py`` running on ``server_data`` (CPU, fp32), stopped afterwards."""
    with running_webui(server_data, tmp_path / "server.log") as url:
        yield url


@pytest.fixture
def page(server):
    """A headless Chromium page opened on the server, with this machine's offline-safe flags."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(server)
        yield page
        browser.close()
