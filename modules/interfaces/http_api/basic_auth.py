"""HTTP Basic: read the ``Authorization`` header; and the JSON answers the access middleware gives by itself."""
from __future__ import annotations

import base64
import binascii

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from modules.interfaces.credentials import CredentialStore
from modules.interfaces.http_api.errors import error_body

CHALLENGE = 'Basic realm="Stable Diffusion web UI", charset="UTF-8"'


def basic_credentials(headers: Headers) -> tuple[str, str] | None:
    """The user and password of an ``Authorization: Basic`` header, or None when absent, empty or malformed.

    >>> basic_credentials(Headers({"authorization": "Basic dTpwOnE="}))
    ('u', 'p:q')
    >>> basic_credentials(Headers({"authorization": ""})) is None
    True
    """
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def is_authorized(headers: Headers, store: CredentialStore) -> bool:
    """True if the request carries HTTP Basic credentials that the store accepts (constant-time comparison)."""
    given = basic_credentials(headers)
    return given is not None and store.verify(*given)


def unauthorized() -> JSONResponse:
    """401 with a Basic challenge and the project's JSON error shape (no hint at which part was wrong)."""
    body = error_body("Unauthorized", "Incorrect username or password (HTTP Basic authentication required)")
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": CHALLENGE})


def unsupported_media_type() -> JSONResponse:
    """415 for an API request body that is not JSON."""
    body = error_body("UnsupportedMediaType", "Request bodies must be JSON (Content-Type: application/json)")
    return JSONResponse(body, status_code=415)


def internal_error(exc: Exception) -> JSONResponse:
    """500 in the shape of the app's own handler for unexpected errors (no message, no traceback)."""
    return JSONResponse(error_body(type(exc).__name__, "internal error; see the server log"), status_code=500)
