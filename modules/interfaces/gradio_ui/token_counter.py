"""The `N/75` token counter in the top-right corner of a prompt box, recounted as the prompt changes."""
from __future__ import annotations

import gradio as gr

from modules.core.token_count import TokenCounter


def build_token_counter(counter: TokenCounter, elem_id: str, *, negative: bool = False) -> gr.HTML:
    """The counter element (an empty prompt's count on page load); place it right after its prompt box inside a
    ``prompt-with-counter`` column."""
    return gr.HTML(lambda: str(counter.count("", steps=1, negative=negative)), elem_id=elem_id,
                   elem_classes=["token-counter"], js_on_load=None)


def wire_token_counter(counter: TokenCounter, *, prompt: gr.Textbox, display: gr.HTML, steps: gr.Slider,
                       styles: gr.Dropdown, negative: bool = False) -> None:
    """Recount when the prompt, the step count (schedules) or the chosen styles change, and on page load.

    Counting never waits for a job or a model load (see ``TokenCounter``), so it runs outside the queue.
    """
    def recount(text: str | None, step_count: float | None, chosen: list[str] | None) -> str:
        return str(counter.count(text or "", steps=int(step_count or 1), styles=tuple(chosen or ()),
                                 negative=negative))

    gr.on([prompt.change, steps.change, styles.change], recount, inputs=[prompt, steps, styles], outputs=display,
          trigger_mode="always_last", queue=False, show_progress="hidden", api_visibility="private")
