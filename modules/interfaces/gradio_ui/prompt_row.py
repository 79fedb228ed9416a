"""The prompt row shared by the generation tabs: prompt boxes with token counters, Generate/Interrupt/Skip, Styles."""
from __future__ import annotations

import gradio as gr

from modules.core.context import AppContext
from modules.core.token_count import TokenCounter

from .token_counter import build_token_counter, wire_token_counter


def build_prompt_row(c: dict, tab: str, style_names: list[str], counter: TokenCounter) -> None:
    """Lay out the row in the current block; components go into ``c`` under their names (``prompt``…)."""
    with gr.Row():
        with gr.Column(scale=6):
            with gr.Column(elem_classes="prompt-with-counter"):
                c["prompt"] = gr.Textbox(label="Prompt", lines=3, placeholder="Prompt", elem_id=f"{tab}_prompt")
                c["token_counter"] = build_token_counter(counter, f"{tab}_token_counter")
            with gr.Column(elem_classes="prompt-with-counter"):
                c["negative_prompt"] = gr.Textbox(label="Negative prompt", lines=2, placeholder="Negative prompt",
                                                  elem_id=f"{tab}_neg_prompt")
                c["negative_token_counter"] = build_token_counter(counter, f"{tab}_negative_token_counter",
                                                                  negative=True)
        with gr.Column(scale=1, min_width=160):
            c["generate"] = gr.Button("Generate", variant="primary", elem_id=f"{tab}_generate")
            with gr.Row():
                c["interrupt"] = gr.Button("Interrupt", elem_id=f"{tab}_interrupt", min_width=60)
                c["skip"] = gr.Button("Skip", elem_id=f"{tab}_skip", min_width=60)
            with gr.Row():
                # A1111's "↙": read generation parameters from the prompt box, or else from the last generation
                c["paste"] = gr.Button("\u2199\ufe0f", elem_id=f"{tab}_paste", scale=0, min_width=40)
                c["styles"] = gr.Dropdown(label="Styles", choices=style_names, value=[], multiselect=True,
                                          elem_id=f"{tab}_styles", scale=4)
                c["styles_refresh"] = gr.Button("🔄", elem_id=f"{tab}_styles_refresh", scale=0, min_width=40)


def reloaded_styles(ctx: AppContext, chosen: list[str] | None) -> gr.Dropdown:
    """Read styles.csv again; keep the chosen styles that still exist."""
    ctx.styles.reload()
    names = [style.name for style in ctx.styles.styles()]
    return gr.Dropdown(choices=names, value=[n for n in chosen or () if n in names])


def wire_prompt_row(ctx: AppContext, c: dict, counter: TokenCounter) -> None:
    """Interrupt, Skip, the two token counters (which need ``c["steps"]``) and the styles refresh button."""
    c["interrupt"].click(lambda: ctx.jobs.interrupt(), queue=False)
    c["skip"].click(lambda: ctx.jobs.skip(), queue=False)
    for box, display, negative in (("prompt", "token_counter", False),
                                   ("negative_prompt", "negative_token_counter", True)):
        wire_token_counter(counter, prompt=c[box], display=c[display], steps=c["steps"], styles=c["styles"],
                           negative=negative)
    c["styles_refresh"].click(lambda chosen: reloaded_styles(ctx, chosen), inputs=c["styles"], outputs=c["styles"],
                              queue=False)
