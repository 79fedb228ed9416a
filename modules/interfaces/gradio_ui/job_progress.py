"""Run a generation in a worker thread while the Gradio handler reports its steps and ETA."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

import gradio as gr

from modules.core.context import AppContext

T = TypeVar("T")


def run_with_progress(ctx: AppContext, work: Callable[[], T], progress: gr.Progress,
                      name: str = "generation") -> T:
    """Call ``work`` in a worker thread while this one reports steps and ETA to the browser."""
    box: dict = {}

    def target():
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the UI thread below
            box["error"] = exc

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    while worker.is_alive():
        snap = ctx.progress.snapshot()
        if snap.sampling_steps:
            desc = f"Step {snap.sampling_step}/{snap.sampling_steps}, ETA {snap.eta_relative:.0f}s"
            progress(snap.progress, desc=desc)
        else:
            progress(0.0, desc="Loading model..." if ctx.models.loaded is None else "Waiting...")
        worker.join(0.25)
    if "error" in box:
        raise box["error"]
    return box["result"]
