"""The style editor under a tab's prompts: pick or name a style, edit its prompt and negative prompt, save or
delete it in styles.csv, or copy the chosen styles into the prompts (A1111's 🖌️ dialog and 📋 button)."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest
from modules.core.styles import PromptStyle

from .errors import shown_to_user


@dataclass(frozen=True)
class StyleEditor:
    """The editor's widgets."""

    name: gr.Dropdown
    prompt: gr.Textbox
    negative_prompt: gr.Textbox
    save: gr.Button
    delete: gr.Button
    apply: gr.Button


def _names(ctx: AppContext) -> list[str]:
    return [style.name for style in ctx.styles.styles()]


def build_style_editor(ctx: AppContext, tab: str) -> StyleEditor:
    """Lay out the editor (collapsed) with elem ids prefixed by ``tab``."""
    with gr.Accordion("Style editor", open=False, elem_id=f"{tab}_style_editor"):
        with gr.Row():
            name = gr.Dropdown(label="Style", choices=_names(ctx), value=None, allow_custom_value=True,
                               elem_id=f"{tab}_style_name", info="Pick a style to edit, or type a new name")
            apply = gr.Button("📋 Apply selected styles to the prompts", elem_id=f"{tab}_style_apply")
        prompt = gr.Textbox(label="Style prompt", lines=2, elem_id=f"{tab}_style_prompt",
                            placeholder="{prompt} marks where the prompt goes; without it the style is appended")
        negative = gr.Textbox(label="Style negative prompt", lines=2, elem_id=f"{tab}_style_neg_prompt")
        with gr.Row():
            save = gr.Button("Save", variant="primary", elem_id=f"{tab}_style_save")
            delete = gr.Button("Delete", variant="stop", elem_id=f"{tab}_style_delete")
    return StyleEditor(name, prompt, negative, save, delete, apply)


def style_fields(ctx: AppContext, name: str | None) -> tuple[str, str]:
    """The prompt and negative prompt of style ``name`` (empty for a new name)."""
    style = ctx.styles.get(name or "")
    return (style.prompt, style.negative_prompt) if style else ("", "")


def save_style(ctx: AppContext, name: str | None, prompt: str, negative: str) -> str:
    """Save (create or replace) a style; return a confirmation."""
    clean = (name or "").strip()
    if not clean:
        raise InvalidRequest("Give the style a name first")
    ctx.styles.save_style(PromptStyle(clean, prompt or "", negative or ""))
    return f"Style {clean} saved"


def delete_style(ctx: AppContext, name: str | None) -> str:
    """Delete a style; return a confirmation."""
    if not ctx.styles.get(name or ""):
        raise InvalidRequest(f"No style named {name!r}")
    ctx.styles.delete_style(name)
    return f"Style {name} deleted"


def apply_styles_to_prompts(ctx: AppContext, prompt: str, negative: str,
                            chosen: list[str] | None) -> tuple[str, str, list[str]]:
    """Write the chosen styles into the prompts and clear the selection (so they are not applied twice)."""
    new_prompt, new_negative = ctx.styles.apply(prompt or "", negative or "", list(chosen or ()))
    return new_prompt, new_negative, []


def wire_style_editor(ctx: AppContext, editor: StyleEditor, *, prompt: gr.Textbox, negative_prompt: gr.Textbox,
                      styles: gr.Dropdown) -> None:
    """Connect the editor to the tab's prompts and its Styles dropdown (refreshed after each change)."""

    def refreshed(message: str, chosen: list[str] | None):
        gr.Info(message)
        names = _names(ctx)
        return gr.Dropdown(choices=names, value=[n for n in chosen or () if n in names]), gr.Dropdown(choices=names)

    editor.name.change(lambda name: style_fields(ctx, name), inputs=editor.name,
                       outputs=[editor.prompt, editor.negative_prompt], queue=False)
    editor.save.click(lambda name, p, n, chosen: refreshed(shown_to_user(lambda: save_style(ctx, name, p, n)), chosen),
                      inputs=[editor.name, editor.prompt, editor.negative_prompt, styles],
                      outputs=[styles, editor.name], queue=False)
    editor.delete.click(lambda name, chosen: refreshed(shown_to_user(lambda: delete_style(ctx, name)), chosen),
                        inputs=[editor.name, styles], outputs=[styles, editor.name], queue=False)
    editor.apply.click(lambda p, n, chosen: apply_styles_to_prompts(ctx, p, n, chosen),
                       inputs=[prompt, negative_prompt, styles], outputs=[prompt, negative_prompt, styles],
                       queue=False)
