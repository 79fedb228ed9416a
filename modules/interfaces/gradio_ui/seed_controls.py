"""The seed section of a generation tab, as A1111 lays it out: Seed with 🎲 (random) and ♻️ (last seed), and
behind the "Extra" checkbox the variation seed (with its own 🎲/♻️), variation strength and "Resize seed from"."""
from __future__ import annotations

import gradio as gr

SEED_INPUTS = ("seed", "subseed_show", "subseed", "subseed_strength", "seed_resize_from_w", "seed_resize_from_h")
"""Names of the components whose values ``seed_fields`` reads."""


def _dice_and_recycle(c: dict, tab: str, name: str) -> None:
    c[f"random_{name}"] = gr.Button("🎲", elem_id=f"{tab}_random_{name}", scale=0, min_width=40)
    c[f"reuse_{name}"] = gr.Button("♻️", elem_id=f"{tab}_reuse_{name}", scale=0, min_width=40)


def build_seed_controls(c: dict, tab: str) -> None:
    """Lay out the seed rows in the current block; components go into ``c`` (``SEED_INPUTS`` among them)."""
    with gr.Row():
        c["seed"] = gr.Number(label="Seed", value=-1, precision=0, elem_id=f"{tab}_seed", scale=4)
        _dice_and_recycle(c, tab, "seed")
        c["subseed_show"] = gr.Checkbox(label="Extra", value=False, elem_id=f"{tab}_subseed_show", scale=0,
                                        min_width=80)
    with gr.Group(visible=False, elem_id=f"{tab}_seed_extras") as extras:
        with gr.Row():
            c["subseed"] = gr.Number(label="Variation seed", value=-1, precision=0, elem_id=f"{tab}_subseed",
                                     scale=4)
            _dice_and_recycle(c, tab, "subseed")
            c["subseed_strength"] = gr.Slider(0, 1, value=0, step=0.01, label="Variation strength",
                                              elem_id=f"{tab}_subseed_strength", scale=4)
        with gr.Row():
            c["seed_resize_from_w"] = gr.Slider(0, 2048, value=0, step=8, label="Resize seed from width",
                                                elem_id=f"{tab}_seed_resize_from_w")
            c["seed_resize_from_h"] = gr.Slider(0, 2048, value=0, step=8, label="Resize seed from height",
                                                elem_id=f"{tab}_seed_resize_from_h")
    c["seed_extras"] = extras
    c["last_seed"] = gr.State(-1)
    c["last_subseed"] = gr.State(-1)


def wire_seed_controls(c: dict) -> None:
    """🎲 sets -1, ♻️ puts back the last job's first seed or subseed, "Extra" shows the variation rows."""
    for name in ("seed", "subseed"):
        c[f"random_{name}"].click(lambda: -1, outputs=c[name], queue=False)
        c[f"reuse_{name}"].click(lambda last: last, inputs=c[f"last_{name}"], outputs=c[name], queue=False)
    c["subseed_show"].change(lambda show: gr.Group(visible=bool(show)), inputs=c["subseed_show"],
                             outputs=c["seed_extras"], queue=False)


def _whole(value: float | None, default: int) -> int:
    return default if value is None else int(value)


def seed_fields(v: dict) -> dict[str, int | float]:
    """Request fields from the named seed values; the extras count only while "Extra" is ticked, as in A1111."""
    fields: dict[str, int | float] = {"seed": _whole(v["seed"], -1)}
    if not v["subseed_show"]:
        return fields | {"subseed": -1, "subseed_strength": 0, "seed_resize_from_w": 0, "seed_resize_from_h": 0}
    strength = float(v["subseed_strength"] or 0)
    return fields | {
        "subseed": _whole(v["subseed"], -1),
        # A whole-number slider value prints as A1111's UI prints it ("Variation seed strength: 1").
        "subseed_strength": int(strength) if strength.is_integer() else strength,
        "seed_resize_from_w": _whole(v["seed_resize_from_w"], 0),
        "seed_resize_from_h": _whole(v["seed_resize_from_h"], 0),
    }
