"""Checks made before any route runs, for every route (UI included): the ``Host`` header against DNS rebinding, the
``Origin`` of state-changing requests against cross-site requests, and the size of the request body.

DNS rebinding: a hostile domain re-pointed at 127.0.0.1 makes the browser treat this server as the attacker's own
origin; only the ``Host`` header still carries the hostile name. IP literals, ``localhost`` and single-label names
(``mypc``: the machine's own name on a LAN, which public DNS cannot serve) cannot be used that way, so they always
pass; other names must be ``--server-name`` or listed with ``--allowed-hosts``.

Cross-site requests: a page elsewhere can make the browser POST here (form or ``text/plain`` bodies need no CORS
preflight). Browsers send ``Origin`` with such requests, so a state-changing request whose ``Origin`` is neither this
server nor an allowlisted CORS origin is refused; ``Origin: null`` (sandboxed frames, ``file:`` pages) is refused too.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from modules.interfaces.http_api.errors import error_body

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_MAX_BODY_MB = 256  # room for several base64 4096x4096 PNGs (init images, masks) in one request
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` value, lower-case, without port, brackets or a trailing dot.

    >>> host_name("Example.COM.:7860"), host_name("[::1]:7860"), host_name("127.0.0.1")
    ('example.com', '::1', '127.0.0.1')
    """
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostRules:
    """Which ``Host`` names are served: IP literals, ``localhost`` (and ``*.localhost``), single-label names, and
    `names`."""

    names: frozenset[str] = frozenset()

    @classmethod
    def from_flags(cls, server_name: str | None, allowed_hosts: str | None) -> HostRules:
        """``--server-name`` plus the comma-separated ``--allowed-hosts`` (``*`` allows every name)."""
        listed = [server_name or "", *(allowed_hosts or "").split(",")]
        return cls(frozenset(host_name(name) for name in listed if name.strip()))

    def allows(self, host_header: str | None) -> bool:
        """True for a missing header (HTTP/1.0), an IP literal, localhost, a single-label name or a listed name.

        >>> rules = HostRules.from_flags(None, "sd.example.org")
        >>> [rules.allows(h) for h in ("127.0.0.1:7860", "[::1]", "localhost", "mypc:7860", "sd.example.org")]
        [True, True, True, True, True]
        >>> [rules.allows(h) for h in ("evil.com:7860", "127.0.0.1.nip.io", "a.localhost.evil.com")]
        [False, False, False]
        """
        if not host_header:
            return True
        name = host_name(host_header)
        return (_is_ip(name) or name == "localhost" or name.endswith(".localhost") or "." not in name
                or name in self.names or "*" in self.names)


def _netloc(scheme: str, netloc: str) -> str:
    """``host:port`` with the scheme's default port made explicit, lower-case."""
    netloc = netloc.strip().lower()
    has_port = netloc.rpartition(":")[2].isdigit() and not netloc.endswith("]")
    return netloc if has_port else f"{netloc}:{_DEFAULT_PORTS.get(scheme, '80')}"


def origin_allowed(origin: str | None, host_header: str | None, scheme: str,
                   cors_allows: Callable[[str], bool]) -> bool:
    """Whether a state-changing request from `origin` may run: no ``Origin`` header, this server's own origin
    (same host and port as the ``Host`` header: a TLS proxy in front may change the scheme), or an allowlisted one.

    >>> origin_allowed("http://127.0.0.1:7860", "127.0.0.1:7860", "http", lambda o: False)
    True
    >>> [origin_allowed(o, "127.0.0.1:7860", "http", lambda o: False) for o in ("null", "https://evil.com", "")]
    [False, False, False]
    """
    if origin is None:
        return True
    origin = origin.strip()
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return False  # "null", "", garbage
    if host_header and _netloc(parts.scheme, parts.netloc) in (_netloc(parts.scheme, host_header),
                                                                _netloc(scheme, host_header)):
        return True
    return cors_allows(origin)


def refused(status: int, name: str, detail: str) -> JSONResponse:
    """A JSON refusal in the project's error shape."""
    return JSONResponse(error_body(name, detail), status_code=status)


def declared_length(headers: Headers) -> int | None:
    """The ``Content-Length`` as an int (None when absent or unreadable)."""
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return max(int(value.strip()), 0)
    except ValueError:
        return None


async def buffered_body(receive: Receive, limit: int) -> list[Message] | None:
    """Read a body sent without ``Content-Length`` (chunked) into memory, up to `limit` bytes; None when it is
    longer. Only chunked requests take this path: browsers and API clients send a length with their uploads."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # a disconnect: let the app see it
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out the buffered messages first, then the real stream (for disconnects)."""
    pending = list(messages)

    async def next_message() -> Message:
        return pending.pop(0) if pending else await receive()
    return next_message
