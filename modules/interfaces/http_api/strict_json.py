"""JSON request bodies parsed strictly: ``NaN``, ``Infinity`` and numbers that overflow to infinity are refused, and
so is malformed JSON, with 400 and a message saying where. Python's ``json`` (which FastAPI uses) accepts those
tokens, and a NaN CFG scale or strength would otherwise reach the sampler."""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Coroutine

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute


class _NonFinite(ValueError):
    pass


def _constant(token: str) -> float:
    raise _NonFinite(f"{token} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(f"{text} is too large for a number")
    return value


def parse_strict(body: bytes) -> Any:
    """Parse a request body; raise HTTPException 400 naming the problem.

    >>> parse_strict(b'{"cfg_scale": 7.5}')
    {'cfg_scale': 7.5}
    >>> parse_strict(b'{"cfg_scale": NaN}')
    Traceback (most recent call last):
    ...
    fastapi.exceptions.HTTPException: 400: Invalid JSON body: NaN is not a JSON number
    """
    try:
        return json.loads(body, parse_constant=_constant, parse_float=_finite)
    except _NonFinite as exc:
        raise HTTPException(400, f"Invalid JSON body: {exc}") from None
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"Invalid JSON body: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise HTTPException(400, f"Invalid JSON body: {type(exc).__name__}") from None


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`parse_strict`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """The route class of every API router: handlers see a :class:`StrictJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))
        return strict
