"""The status line after a job says where the time went."""
from __future__ import annotations

from modules.interfaces.gradio_ui.model_bar import job_status_text


def test_job_status_names_model_lora_and_total_and_hides_zero_costs():
    text = job_status_text("a.safetensors", (("model", 6.812), ("VAE", 0.0), ("LoRA", 0.031),
                                             ("embeddings", 0.001), ("total", 9.5)))
    assert text == "a.safetensors · model 6.81 s · LoRA 0.03 s · total 9.50 s"
    assert job_status_text("a", ()) == "a"
