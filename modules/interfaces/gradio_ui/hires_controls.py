"""The "Hires. fix" section of the txt2img tab: upscaler, steps, denoising, scale or target size, and the optional
second-pass checkpoint, sampler, schedule and prompts ("Use same …" = the first pass's)."""
from __future__ import annotations

import gradio as gr

from modules.core.context import AppContext
from modules.core.samplers import SAMPLERS, SCHEDULES
from modules.core.upscalers import LATENT_UPSCALE_MODES

SAME_CHECKPOINT = "Use same checkpoint"
SAME_SAMPLER = "Use same sampler"
SAME_SCHEDULER = "Use same scheduler"

HIRES_INPUTS = ("enable_hr", "hr_upscaler", "hr_second_pass_steps", "hr_denoising_strength", "hr_scale",
                "hr_resize_x", "hr_resize_y", "hr_checkpoint_name", "hr_sampler_name", "hr_scheduler", "hr_prompt",
                "hr_negative_prompt")
"""Names of the components whose values ``hires_fields`` reads."""


def upscaler_choices(ctx: AppContext) -> list[str]:
    """The hires upscaler list: latent modes first, then the image upscalers (None, Lanczos, Nearest, models)."""
    return list(dict.fromkeys([*(m.name for m in LATENT_UPSCALE_MODES), *ctx.upscalers.names()]))


def build_hires_controls(c: dict, ctx: AppContext, tab: str = "txt2img") -> None:
    """Lay out the checkbox and its (hidden until ticked) controls; components go into ``c``."""
    c["enable_hr"] = gr.Checkbox(label="Hires. fix", value=False, elem_id=f"{tab}_enable_hr")
    with gr.Group(visible=False, elem_id=f"{tab}_hires_fix") as group:
        with gr.Row():
            c["hr_upscaler"] = gr.Dropdown(label="Upscaler", choices=upscaler_choices(ctx), value="Latent",
                                           elem_id=f"{tab}_hr_upscaler")
            c["hr_second_pass_steps"] = gr.Slider(0, 150, value=0, step=1, label="Hires steps",
                                                  elem_id=f"{tab}_hires_steps")
            c["hr_denoising_strength"] = gr.Slider(0, 1, value=0.7, step=0.01, label="Denoising strength",
                                                   elem_id=f"{tab}_denoising_strength")
        with gr.Row():
            c["hr_scale"] = gr.Slider(1, 4, value=2, step=0.05, label="Upscale by", elem_id=f"{tab}_hr_scale")
            c["hr_resize_x"] = gr.Slider(0, 2048, value=0, step=8, label="Resize width to",
                                         elem_id=f"{tab}_hr_resize_x")
            c["hr_resize_y"] = gr.Slider(0, 2048, value=0, step=8, label="Resize height to",
                                         elem_id=f"{tab}_hr_resize_y")
        with gr.Row():
            titles = [r.title for r in ctx.catalog.checkpoints()]
            c["hr_checkpoint_name"] = gr.Dropdown(label="Hires checkpoint", choices=[SAME_CHECKPOINT, *titles],
                                                  value=SAME_CHECKPOINT, elem_id=f"{tab}_hr_checkpoint")
            c["hr_sampler_name"] = gr.Dropdown(label="Hires sampling method",
                                               choices=[SAME_SAMPLER, *(s.name for s in SAMPLERS)],
                                               value=SAME_SAMPLER, elem_id=f"{tab}_hr_sampler")
            c["hr_scheduler"] = gr.Dropdown(label="Hires schedule type",
                                            choices=[SAME_SCHEDULER, *(s.label for s in SCHEDULES)],
                                            value=SAME_SCHEDULER, elem_id=f"{tab}_hr_scheduler")
        with gr.Row():
            c["hr_prompt"] = gr.Textbox(label="Hires prompt", lines=2, placeholder="Prompt for hires fix pass.\n"
                                        "Leave empty to use the same prompt as in first pass.",
                                        elem_id=f"{tab}_hires_prompt")
            c["hr_negative_prompt"] = gr.Textbox(label="Hires negative prompt", lines=2,
                                                 placeholder="Negative prompt for hires fix pass.\nLeave empty to "
                                                 "use the same negative prompt as in first pass.",
                                                 elem_id=f"{tab}_hires_neg_prompt")
    c["hires_group"] = group


def wire_hires_controls(c: dict) -> None:
    """Ticking "Hires. fix" shows its controls."""
    c["enable_hr"].change(lambda show: gr.Group(visible=bool(show)), inputs=c["enable_hr"],
                          outputs=c["hires_group"], queue=False)


def _chosen(value: str | None, same: str) -> str | None:
    return None if not value or value == same else value


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def hires_fields(v: dict) -> dict[str, object]:
    """``Txt2ImgRequest`` hires fields from the named values; none when the values hold no hires controls."""
    if "enable_hr" not in v:
        return {}
    return {
        "enable_hr": bool(v["enable_hr"]), "hr_upscaler": v["hr_upscaler"] or "Latent",
        "hr_second_pass_steps": int(v["hr_second_pass_steps"] or 0),
        "denoising_strength": float(v["hr_denoising_strength"]), "hr_scale": _number(v["hr_scale"]),
        "hr_resize_x": int(v["hr_resize_x"] or 0), "hr_resize_y": int(v["hr_resize_y"] or 0),
        "hr_checkpoint_name": _chosen(v["hr_checkpoint_name"], SAME_CHECKPOINT),
        "hr_sampler_name": _chosen(v["hr_sampler_name"], SAME_SAMPLER),
        "hr_scheduler": _chosen(v["hr_scheduler"], SAME_SCHEDULER),
        "hr_prompt": v["hr_prompt"] or "", "hr_negative_prompt": v["hr_negative_prompt"] or "",
    }
