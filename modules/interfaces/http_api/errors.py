"""Map core errors to A1111-shaped JSON error responses with the right status code."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modules.core import errors

log = logging.getLogger(__name__)

STATUS = (
    (errors.SamplerNotFound, 400),
    (errors.SettingLocked, 403),
    (errors.InvalidRequest, 422),
    (errors.UnsupportedModel, 422),
    (errors.ModelNotFound, 404),
    (errors.NoModelLoaded, 409),
    (errors.Busy, 409),
    (errors.JobNotFound, 404),
    (errors.JobCancelled, 409),
    (errors.JobNotFinished, 409),
    (errors.OutOfMemory, 507),
)


def status_for(exc: errors.WebUIError) -> int:
    """The HTTP status for a core error."""
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 500)


def error_body(name: str, detail: str) -> dict:
    """A1111's error shape: error, detail, body, errors (never a traceback or a secret)."""
    return {"error": name, "detail": detail, "body": "", "errors": detail}


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers so every non-2xx answer is JSON."""

    @app.exception_handler(errors.WebUIError)
    async def _webui_error(request: Request, exc: errors.WebUIError) -> JSONResponse:
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=status_for(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = "NotFound" if exc.status_code == 404 else "HTTPException"
        detail = f"Not Found: {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(error_body(name, detail), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        body = error_body("RequestValidationError", detail)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unhandled error on %s", request.url.path)
        return JSONResponse(error_body(type(exc).__name__, "internal error; see the server log"), status_code=500)
