"""Prompt styles, built in as an extension: a request's styles are merged into its prompts before anything else
(A1111: tags inside styles count, and infotext and ``info`` show the styled prompts)."""
from __future__ import annotations

import dataclasses

from modules.core.hooks import hookimpl
from modules.core.style_store import StyleStore

NAME = "prompt-styles"


class PromptStyles:
    """The ``transform_request`` hook that applies `StyleStore` styles."""

    def __init__(self, styles: StyleStore) -> None:
        self._styles = styles

    @hookimpl
    def transform_request(self, request):
        """Apply the request's styles to its prompt and negative prompt."""
        if not request.styles:
            return None
        prompt, negative = self._styles.apply(request.prompt, request.negative_prompt, request.styles)
        return dataclasses.replace(request, prompt=prompt, negative_prompt=negative)
