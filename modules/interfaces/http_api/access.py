"""One ASGI middleware in front of the whole app: who may call what, CORS, JSON bodies, timing and request log.

Every request that the mounted Gradio UI does not own (all ``/sdapi/...`` paths, ``/docs``, ``/redoc``,
``/openapi.json``, any route added later, and everything in API-only mode) needs HTTP Basic credentials when the
policy has any; the UI keeps Gradio's own login cookie. Wrapping the whole app, not single routes, means no route
can be registered outside it (A1111's per-route auth let extension routes escape). CORS headers come only from the
``--cors-allow-origins[-regex]`` allowlist: those Gradio adds by itself are dropped.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modules.interfaces.credentials import CredentialStore, api_credentials
from modules.interfaces.http_api.basic_auth import (internal_error, is_authorized, unauthorized,
                                                    unsupported_media_type)
from modules.interfaces.http_api.request_guard import (DEFAULT_MAX_BODY_MB, STATE_CHANGING, HostRules,
                                                       buffered_body, declared_length, origin_allowed, refused,
                                                       replay)
from modules.interfaces.launch_options import LaunchOptions

log = logging.getLogger(__name__)
API_PREFIX = "/sdapi/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class AccessPolicy:
    """What the middleware enforces: API logins, the CORS allowlist and whether to log API requests."""

    credentials: CredentialStore = CredentialStore()
    cors_origins: tuple[str, ...] = ()
    cors_origin_regex: str | None = None
    log_requests: bool = False
    hosts: HostRules = HostRules()
    max_body_bytes: int = DEFAULT_MAX_BODY_MB << 20

    @classmethod
    def from_options(cls, options: LaunchOptions | None) -> AccessPolicy:
        """Read the policy from the launch flags (None: no login, no CORS, no log)."""
        if options is None:
            return cls()
        origins = tuple(o.strip() for o in (options.cors_allow_origins or "").split(",") if o.strip())
        regex = options.cors_allow_origins_regex or None
        if regex is not None:
            re.compile(regex)  # fail at start-up, not on the first request
        return cls(api_credentials(options), origins, regex, options.api_log,
                   HostRules.from_flags(options.server_name, options.allowed_hosts), options.max_body_size << 20)

    @property
    def cors(self) -> bool:
        """True when an origin allowlist was given (otherwise no CORS header is ever sent)."""
        return bool(self.cors_origins or self.cors_origin_regex)

    def cors_allows(self, origin: str) -> bool:
        """True for an origin of the ``--cors-allow-origins[-regex]`` allowlist."""
        return origin in self.cors_origins or bool(
            self.cors_origin_regex and re.fullmatch(self.cors_origin_regex, origin))


class AccessMiddleware:
    """Time and log every request, apply the CORS allowlist, then refuse unauthorized or non-JSON API requests."""

    def __init__(self, app: ASGIApp, *, policy: AccessPolicy, router: Router, ui_app: ASGIApp | None = None):
        self.app = app
        self.policy = policy
        self._router = router
        self._ui_app = ui_app
        self._inner: ASGIApp = self._guard
        if policy.cors:  # outside the guard: preflights never carry credentials, and 401s get CORS headers too
            self._inner = CORSMiddleware(self._guard, allow_origins=policy.cors_origins,
                                         allow_origin_regex=policy.cors_origin_regex, allow_credentials=True,
                                         allow_methods=["*"], allow_headers=["*"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        # decided before routing adds to the scope
        logged = self.policy.log_requests and scope["type"] == "http" and self.is_api(scope)

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Process-Time"] = f"{time.perf_counter() - started:.4f}"
            await send(message)

        try:
            receive = await self._screen(scope, receive, timed_send)
            if receive is not None:
                await self._inner(scope, receive, timed_send)
        except Exception as exc:
            if scope["type"] == "http" and status is None:  # answer here so the 500 is timed too; the app's
                await internal_error(exc)(scope, receive, timed_send)  # error handler still logs the traceback
            raise
        finally:
            if logged:
                client = scope.get("client")
                log.info("API %s %s -> %d in %.1f ms from %s", scope["method"], _log_path(scope), status or 500,
                         (time.perf_counter() - started) * 1000, client[0] if client else "-")

    async def _screen(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Refuse a foreign ``Host`` (400), a cross-site state-changing request (403) or an oversized body (413);
        return the ``receive`` to go on with, or None when the request was answered here."""
        headers = Headers(scope=scope)
        host = headers.get("host")
        answer = None
        if not self.policy.hosts.allows(host):
            log.warning("Refused a request for host %r (DNS rebinding?); allow it with --allowed-hosts",
                        (host or "").encode("unicode_escape").decode("ascii"))
            answer = refused(400, "HostNotAllowed", f"Host not allowed: {host}; start the server with "
                             "--allowed-hosts NAME to serve this name")
        elif (scope["type"] == "websocket" or scope["method"] in STATE_CHANGING) and not origin_allowed(
                headers.get("origin"), host, scope.get("scheme", "http"), self.policy.cors_allows):
            answer = refused(403, "OriginNotAllowed", "Cross-site request refused: the Origin header names "
                             "another site (allow it with --cors-allow-origins)")
        elif scope["type"] == "http":
            length, limit = declared_length(headers), self.policy.max_body_bytes
            if length is None and "transfer-encoding" in headers:
                messages = await buffered_body(receive, limit)
                if messages is not None:
                    return replay(messages, receive)
                length = limit + 1
            if length is not None and length > limit:
                answer = refused(413, "RequestTooLarge", f"The request body is larger than {limit >> 20} MB "
                                 "(--max-body-size)")
        if answer is None:
            return receive
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await answer(scope, receive, send)
        return None

    def is_api(self, scope: Scope) -> bool:
        """True unless the request belongs to the mounted UI (no app route matches it but the UI mount)."""
        if self._ui_app is None or (scope["path"] + "/").startswith(API_PREFIX):
            return True
        return any(route.matches(scope)[0] is not Match.NONE for route in self._router.routes
                   if not (isinstance(route, Mount) and route.app is self._ui_app))

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an API request without valid credentials (401) or with a non-JSON body (415); pass the rest."""
        if self.is_api(scope):
            headers = Headers(scope=scope)
            if self.policy.credentials and not is_authorized(headers, self.policy.credentials):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await unauthorized()(scope, receive, send)
                return
            if scope["type"] == "http" and _needs_json(scope, headers):
                await unsupported_media_type()(scope, receive, send)
                return
        await self.app(scope, receive, _without_cors_headers(send))


def _log_path(scope: Scope) -> str:
    """The path as sent (percent-encoded, no query string), escaped so a crafted path cannot forge log lines."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    return path.encode("unicode_escape").decode("ascii")


def _needs_json(scope: Scope, headers: Headers) -> bool:
    """True for a ``/sdapi/`` request whose body is not declared as JSON (bodiless requests need no type)."""
    if scope["method"] not in BODY_METHODS or not scope["path"].startswith(API_PREFIX):
        return False
    has_body = headers.get("content-length", "0").strip() != "0" or "transfer-encoding" in headers
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return has_body and media_type != "application/json"


def _without_cors_headers(send: Send) -> Send:
    """Drop CORS headers set behind us (Gradio adds its own): only the configured allowlist may allow origins."""

    async def strip(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name in {key for key in headers.keys() if key.startswith("access-control-")}:
                del headers[name]
        await send(message)
    return strip
