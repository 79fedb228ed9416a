"""The txt2img seed section: "Extra" decides whether the variation values reach the request (as in A1111)."""
from __future__ import annotations

import gradio as gr

from modules.interfaces.gradio_ui.seed_controls import (SEED_INPUTS, build_seed_controls, seed_fields,
                                                        wire_seed_controls)

EXTRAS = {"subseed": 123, "subseed_strength": 0.35, "seed_resize_from_w": 640, "seed_resize_from_h": 448}


def test_extras_ignored_while_extra_is_unticked():
    fields = seed_fields({"seed": 5, "subseed_show": False, **EXTRAS})
    assert fields == {"seed": 5, "subseed": -1, "subseed_strength": 0, "seed_resize_from_w": 0,
                      "seed_resize_from_h": 0}


def test_extras_used_while_extra_is_ticked():
    fields = seed_fields({"seed": 5.0, "subseed_show": True, **EXTRAS})
    assert fields == {"seed": 5, **EXTRAS}
    assert isinstance(fields["seed"], int) and isinstance(fields["subseed"], int)


def test_empty_numbers_mean_random_and_whole_strength_is_an_int():
    fields = seed_fields({"seed": None, "subseed_show": True, **EXTRAS, "subseed": None, "subseed_strength": 1.0})
    assert fields["seed"] == -1 and fields["subseed"] == -1
    assert fields["subseed_strength"] == 1 and isinstance(fields["subseed_strength"], int)


def test_layout_ids_defaults_and_hidden_extras():
    c: dict = {}
    with gr.Blocks():
        build_seed_controls(c, "txt2img")
        wire_seed_controls(c)
    assert set(SEED_INPUTS) <= set(c)
    assert c["seed_extras"].visible is False and c["subseed_show"].value is False
    assert (c["subseed"].value, c["subseed_strength"].value, c["seed_resize_from_w"].value) == (-1, 0, 0)
    assert c["subseed_strength"].maximum == 1 and c["seed_resize_from_h"].maximum == 2048
    ids = {c[name].elem_id for name in ("random_seed", "reuse_seed", "random_subseed", "reuse_subseed")}
    assert ids == {"txt2img_random_seed", "txt2img_reuse_seed", "txt2img_random_subseed", "txt2img_reuse_subseed"}
