"""The Checkpoint Merger tab: merge two or three checkpoints into a new .safetensors file (A1111's layout)."""
from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.errors import ModelNotFound
from modules.core.merge import CONFIG_SOURCES, INTERP_METHODS, WEIGHTED_SUM, MergeRequest

from .errors import shown_to_user
from .job_progress import QUEUED_EVENTS, run_with_progress
from .model_bar import checkpoint_choices

DESCRIPTIONS = {
    "No interpolation": "No interpolation will be used. Requires one model; A. Allows for format conversion and "
                        "VAE baking.",
    "Weighted sum": "A weighted sum will be used for interpolation. Requires two models; A and B. The result is "
                    "calculated as A * (1 - M) + B * M",
    "Add difference": "The difference between the last two models will be added to the first. Requires three "
                      "models; A, B and C. The result is calculated as A + (B - C) * M",
}
KEYS = ("primary", "secondary", "tertiary", "interp_method", "multiplier", "save_as_half", "custom_name",
        "checkpoint_format", "config_source", "bake_in_vae", "discard_weights", "save_metadata", "add_merge_recipe",
        "copy_metadata_fields", "metadata_json", "overwrite")


@dataclass(frozen=True)
class MergerTab:
    """The model dropdowns (refreshed with the page) and the result panel."""

    primary: gr.Dropdown
    secondary: gr.Dropdown
    tertiary: gr.Dropdown
    bake_in_vae: gr.Dropdown
    result: gr.HTML

    @property
    def lists(self) -> list[gr.Dropdown]:
        """The dropdowns `refreshed_lists` fills on page load."""
        return [self.primary, self.secondary, self.tertiary, self.bake_in_vae]


def describe(method: str) -> str:
    """The explanation shown above the model lists for an interpolation method."""
    return f"<p style='margin-bottom: 2.5em'>{html.escape(DESCRIPTIONS[method])}</p>"


def checkpoint_titles(ctx: AppContext) -> list[str]:
    """The checkpoint titles as last scanned."""
    return [r.title for r in ctx.catalog.checkpoints()]


def vae_names(ctx: AppContext) -> list[str]:
    """"None" and every VAE file name."""
    return list(dict.fromkeys(["None", *(r.filename for r in ctx.addons.vaes())]))


def refreshed_lists(ctx: AppContext) -> tuple[gr.Dropdown, ...]:
    """Choice updates for the three model lists and the VAE list as last scanned (page load)."""
    titles = checkpoint_titles(ctx)
    return (*(gr.Dropdown(choices=titles) for _ in range(3)), gr.Dropdown(choices=vae_names(ctx)))


def merge_request(v: dict) -> MergeRequest:
    """The core request from the tab's named values."""
    return MergeRequest(
        primary=v["primary"] or "", secondary=v["secondary"] or "", tertiary=v["tertiary"] or "",
        interp_method=v["interp_method"], multiplier=float(v["multiplier"]), save_as_half=bool(v["save_as_half"]),
        custom_name=v["custom_name"] or "", checkpoint_format=v["checkpoint_format"],
        config_source=int(v["config_source"]), bake_in_vae=v["bake_in_vae"] or "None",
        discard_weights=v["discard_weights"] or "", save_metadata=bool(v["save_metadata"]),
        add_merge_recipe=bool(v["add_merge_recipe"]), copy_metadata_fields=bool(v["copy_metadata_fields"]),
        metadata_json=v["metadata_json"] or "{}", overwrite=bool(v["overwrite"]))


def run_merge(ctx: AppContext, v: dict) -> str:
    """Merge and return the result panel's HTML (the saved file and the time taken)."""
    result = ctx.merger.merge(merge_request(v))
    return f"<p>{html.escape(result.message)}</p>"


def _models(c: dict, titles: list[str]) -> None:
    with gr.Row(elem_id="modelmerger_models"):
        for key, letter, label in (("primary", "A", "Primary model (A)"), ("secondary", "B", "Secondary model (B)"),
                                   ("tertiary", "C", "Tertiary model (C)")):
            c[key] = gr.Dropdown(choices=titles, value=None, label=label, elem_id=f"modelmerger_{key}_model_name")
            c[f"refresh_{key}"] = gr.Button("🔄", scale=0, min_width=40, elem_id=f"refresh_checkpoint_{letter}")


def _options(c: dict, vaes: list[str]) -> None:
    with gr.Row():
        c["checkpoint_format"] = gr.Radio(choices=["safetensors"], value="safetensors", label="Checkpoint format",
                                          info="Only safetensors is written: a .ckpt pickle can carry code",
                                          elem_id="modelmerger_checkpoint_format")
        c["save_as_half"] = gr.Checkbox(value=False, label="Save as float16", elem_id="modelmerger_save_as_half")
    with gr.Row():
        c["config_source"] = gr.Radio(choices=list(CONFIG_SOURCES), value=CONFIG_SOURCES[0], type="index",
                                      label="Copy config from", elem_id="modelmerger_config_method")
        c["bake_in_vae"] = gr.Dropdown(choices=vaes, value="None", label="Bake in VAE",
                                       elem_id="modelmerger_bake_in_vae")
        c["refresh_vae"] = gr.Button("🔄", scale=0, min_width=40, elem_id="modelmerger_refresh_bake_in_vae")
    c["discard_weights"] = gr.Textbox(value="", label="Discard weights with matching name",
                                      elem_id="modelmerger_discard_weights")
    c["overwrite"] = gr.Checkbox(value=False, label="Overwrite an existing file", elem_id="modelmerger_overwrite",
                                 info="Off: a merge never replaces a checkpoint that already has the output name")
    with gr.Accordion("Metadata", open=False):
        with gr.Row():
            c["save_metadata"] = gr.Checkbox(value=True, label="Save metadata", elem_id="modelmerger_save_metadata")
            c["add_merge_recipe"] = gr.Checkbox(value=True, label="Add merge recipe metadata",
                                                elem_id="modelmerger_add_recipe")
            c["copy_metadata_fields"] = gr.Checkbox(value=True, label="Copy metadata from merged models",
                                                    elem_id="modelmerger_copy_metadata")
        c["metadata_json"] = gr.TextArea("{}", label="Metadata in JSON format", elem_id="modelmerger_metadata_json")
        c["read_metadata"] = gr.Button("Read metadata from selected checkpoints",
                                       elem_id="modelmerger_read_metadata")


def _layout(ctx: AppContext) -> dict:
    c: dict = {}
    with gr.Row(equal_height=False):
        with gr.Column(variant="compact"):
            c["description"] = gr.HTML(describe(WEIGHTED_SUM), elem_id="modelmerger_interp_description")
            _models(c, checkpoint_titles(ctx))
            c["custom_name"] = gr.Textbox(label="Custom Name (Optional)", elem_id="modelmerger_custom_name")
            c["multiplier"] = gr.Slider(0.0, 1.0, value=0.3, step=0.05,
                                        label="Multiplier (M) - set to 0 to get model A",
                                        elem_id="modelmerger_interp_amount")
            c["interp_method"] = gr.Radio(choices=list(INTERP_METHODS), value=WEIGHTED_SUM,
                                          label="Interpolation Method", elem_id="modelmerger_interp_method")
            _options(c, vae_names(ctx))
            c["merge"] = gr.Button("Merge", variant="primary", elem_id="modelmerger_merge")
        with gr.Column(variant="compact", elem_id="modelmerger_results_container"):
            c["result"] = gr.HTML(elem_id="modelmerger_result")
    return c


def _refreshed_models(ctx: AppContext, *current: str | None) -> tuple[gr.Dropdown, ...]:
    """Rescan the checkpoint folders; keep each choice that still exists (under its new title once hashed)."""
    ctx.catalog.refresh()
    return tuple(gr.Dropdown(choices=checkpoint_titles(ctx), value=_current_title(ctx, v)) for v in current)


def _current_title(ctx: AppContext, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ctx.catalog.find(value).title
    except ModelNotFound:
        return None


def _bar_list(ctx: AppContext) -> gr.Dropdown:
    """The model bar's checkpoint list with the new file, still showing the loaded model."""
    titles, current = checkpoint_choices(ctx)
    return gr.Dropdown(choices=titles, value=current)


def _refreshed_vaes(ctx: AppContext, current: str | None) -> gr.Dropdown:
    ctx.addons.refresh()
    names = vae_names(ctx)
    return gr.Dropdown(choices=names, value=current if current in names else "None")


def build_merger_tab(ctx: AppContext, checkpoint_list: gr.Dropdown | None = None) -> MergerTab:
    """Lay out the tab and wire its events; `checkpoint_list` (the model bar's) also gets the new file."""
    c = _layout(ctx)
    names = {id(c[k]): k for k in KEYS}
    dropdowns = [c["primary"], c["secondary"], c["tertiary"]]
    bar = [checkpoint_list] if checkpoint_list is not None else []

    def merge(values: dict, progress=gr.Progress()):
        v = {names[id(comp)]: value for comp, value in values.items()}
        message = shown_to_user(lambda: run_with_progress(ctx, lambda: run_merge(ctx, v), progress, "merge"))
        lists = _refreshed_models(ctx, v["primary"], v["secondary"], v["tertiary"])
        return (*lists, *([_bar_list(ctx)] if bar else []), message)

    c["merge"].click(lambda: "", outputs=c["result"], queue=False)
    c["merge"].click(merge, inputs={c[k] for k in KEYS}, outputs=[*dropdowns, *bar, c["result"]],
                     concurrency_limit=QUEUED_EVENTS, concurrency_id="gpu")
    c["interp_method"].change(describe, inputs=c["interp_method"], outputs=c["description"], queue=False)
    for key in ("primary", "secondary", "tertiary"):
        c[f"refresh_{key}"].click(lambda *v: _refreshed_models(ctx, *v), inputs=dropdowns, outputs=dropdowns,
                                  queue=False)
    c["refresh_vae"].click(lambda v: _refreshed_vaes(ctx, v), inputs=c["bake_in_vae"], outputs=c["bake_in_vae"],
                           queue=False)
    c["read_metadata"].click(lambda *v: shown_to_user(lambda: ctx.merger.read_metadata(list(v))), inputs=dropdowns,
                             outputs=c["metadata_json"], queue=False)
    return MergerTab(primary=c["primary"], secondary=c["secondary"], tertiary=c["tertiary"],
                     bake_in_vae=c["bake_in_vae"], result=c["result"])
