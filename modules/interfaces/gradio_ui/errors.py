"""Turn core errors into messages the browser shows."""
from __future__ import annotations

import logging
from typing import Callable, Iterator, TypeVar

import gradio as gr

from modules.core.errors import WebUIError

log = logging.getLogger(__name__)
T = TypeVar("T")


def shown_to_user(fn: Callable[[], T]) -> T:
    """Run ``fn``; a WebUIError becomes ``gr.Error`` with its message, anything else a short generic one."""
    try:
        return fn()
    except WebUIError as exc:
        raise gr.Error(str(exc)) from exc
    except gr.Error:
        raise
    except Exception as exc:  # noqa: BLE001 - the UI must show something and stay up
        log.exception("Unexpected error in the UI")
        raise gr.Error(f"Unexpected error ({type(exc).__name__}); see the console for details") from exc


def shown_while_iterating(items: Iterator[T]) -> Iterator[T]:
    """Iterate ``items``, turning errors raised on the way into messages as `shown_to_user` does."""
    end = object()
    while True:
        item = shown_to_user(lambda: next(items, end))
        if item is end:
            return
        yield item  # type: ignore[misc]
