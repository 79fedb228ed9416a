"""``/sdapi/v1/prompt-styles``: the styles of ``styles.csv`` in A1111's shape, closing over the AppContext."""
from __future__ import annotations

from typing import Callable

from modules.core.context import AppContext

Routes = list[tuple[str, str, Callable]]


def style_routes(ctx: AppContext) -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for the prompt styles listing."""

    def prompt_styles() -> list[dict]:
        """List every style as ``{name, prompt, negative_prompt}``, in file order."""
        return [{"name": s.name, "prompt": s.prompt, "negative_prompt": s.negative_prompt}
                for s in ctx.styles.styles()]

    return [("GET", "/prompt-styles", prompt_styles)]
