"""A pickle in models/ESRGAN that would run code is refused by name and never executed, through the API too."""
from __future__ import annotations

import base64
import io

from fastapi.testclient import TestClient
from PIL import Image

from modules import bootstrap


def test_malicious_pth_upscaler_is_refused_and_never_runs(tmp_path, make_context, data_dir):
    from tests.support.tiny_models import build_malicious_ckpt

    sentinel = tmp_path / "pwned.txt"
    build_malicious_ckpt(data_dir / "models" / "ESRGAN" / "4x-evil.pth", sentinel)
    ctx = make_context()
    assert "4x-evil" in ctx.upscalers.names(), "listing reads directory entries only"
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="PNG")
    body = {"image": base64.b64encode(buffer.getvalue()).decode(), "upscaler_1": "4x-evil"}
    with TestClient(bootstrap.create_app(ctx, api=True, ui=False)) as client:
        response = client.post("/sdapi/v1/extra-single-image", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["error"] == "UnsupportedModel" and "4x-evil.pth: refused to load" in error["detail"]
    assert not sentinel.exists(), "the pickle's payload ran"
