"""Extension controls in the generation tabs and extension tabs on the page, from the UI hooks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from modules.core.context import AppContext


@dataclass(frozen=True)
class ExtensionInputs:
    """The components extensions added to one tab, by extension and control name."""

    controls: dict[str, dict[str, Any]] = field(default_factory=dict)

    def components(self) -> list:
        """Every component, to add to the generate event's inputs."""
        return [comp for named in self.controls.values() for comp in named.values()]

    def args(self, values: dict) -> dict[str, dict[str, Any]]:
        """``request.extension_args`` from the event's ``{component: value}`` dict."""
        return {name: {key: values[comp] for key, comp in named.items() if comp in values}
                for name, named in self.controls.items()}


def build_extension_controls(ctx: AppContext, tab: str) -> ExtensionInputs:
    """Each extension's controls in its own closed accordion (in the current layout block)."""
    controls: dict[str, dict[str, Any]] = {}
    for name, spec in ctx.extensions.each("generation_controls", ctx=ctx, tab=tab):
        if spec is None:
            continue
        with gr.Accordion(spec.title, open=False, elem_id=f"{tab}_ext_{name}"):
            built = _build(ctx, name, spec)
        if built:
            controls[name] = built
    return ExtensionInputs(controls)


def _build(ctx: AppContext, name: str, spec) -> dict[str, Any]:
    """Run the extension's ``build``; a failure shows as a note in its accordion instead of breaking the page."""
    try:
        built = dict(spec.build())
    except Exception as exc:  # noqa: BLE001 - an extension must not break the page
        ctx.extensions.record_failure(name, "generation_controls", exc)
        gr.Markdown(f"This extension failed to build its controls: {type(exc).__name__}")
        return {}
    return built


def build_extension_tabs(ctx: AppContext) -> None:
    """The tabs extensions add (inside the page's ``gr.Tabs``)."""
    for name, tabs in ctx.extensions.each("ui_tabs", ctx=ctx):
        for tab in tabs or ():
            with gr.Tab(tab.title, id=tab.elem_id or f"ext_{name}_{tab.title}"):
                try:
                    tab.build()
                except Exception as exc:  # noqa: BLE001 - see _build
                    ctx.extensions.record_failure(name, "ui_tabs", exc)
                    gr.Markdown(f"This extension failed to build its tab: {type(exc).__name__}")
