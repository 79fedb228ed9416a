"""Run the real FastAPI app in uvicorn on a free 127.0.0.1 port in a background thread, for real HTTP clients."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class LiveServer:
    """Where a running test server listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app: FastAPI, *, host: str = "127.0.0.1", timeout: float = 30.0) -> Iterator[LiveServer]:
    """Serve `app` until the block ends; raise if it does not start within `timeout` seconds."""
    config = uvicorn.Config(app, host=host, port=free_port(host), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(host, config.port)
    finally:
        server.should_exit = True
        thread.join(timeout)
