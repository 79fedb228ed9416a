"""Freeze flags at the edges: ``POST /options`` answers 403 before switching anything; the model bar's checkpoint
and VAE lists are read-only and refuse a switch."""
from __future__ import annotations

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from modules import bootstrap
from modules.interfaces.gradio_ui.model_bar import build_model_bar, select_checkpoint
from tests.conftest import install_checkpoint


def test_options_refuses_frozen_keys_with_403_and_changes_nothing(make_context, data_dir, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    ctx = make_context("--freeze-specific-settings", "eta_ddim,sd_model_checkpoint")
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as client:
        answer = client.post("/sdapi/v1/options", json={"eta_ddim": 0.5, "eta_ancestral": 0.5})
        assert answer.status_code == 403 and "eta_ddim" in answer.text
        answer = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny.safetensors"})
        assert answer.status_code == 403 and "sd_model_checkpoint" in answer.text
        assert ctx.models.loaded is None
        assert client.post("/sdapi/v1/options", json={"eta_ancestral": 0.5}).status_code == 200
    assert ctx.settings.current().get("eta_ddim") == 0.0 and ctx.settings.current().get("eta_ancestral") == 0.5


def test_model_bar_is_read_only_when_frozen(make_context, data_dir, tiny_checkpoint):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion", "tiny.safetensors")
    ctx = make_context("--freeze-settings")
    with gr.Blocks():
        bar = build_model_bar(ctx)
    assert bar.checkpoint.interactive is False and bar.vae.interactive is False
    with pytest.raises(gr.Error, match="--freeze-settings"):
        select_checkpoint(ctx, "tiny.safetensors")
    assert ctx.models.loaded is None
