"""Acceptance 2: recorded request sequences of real clients replayed against the live server: 200s, A1111
field types, and no unknown request key (or secret) anywhere in an answer or its parsed ``info``."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from PIL import Image

from modules.interfaces.http_api.img2img_schemas import Img2ImgBody
from modules.interfaces.http_api.schemas import Txt2ImgBody

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clients"
BODIES = {"/sdapi/v1/txt2img": Txt2ImgBody, "/sdapi/v1/img2img": Img2ImgBody}
SECRET = "SECRET-PASSWORD-1234"
INFO_KEYS = {"prompt", "all_prompts", "negative_prompt", "all_negative_prompts", "seed", "all_seeds", "subseed",
             "all_subseeds", "subseed_strength", "width", "height", "sampler_name", "cfg_scale", "steps",
             "batch_size", "restore_faces", "face_restoration_model", "sd_model_name", "sd_model_hash",
             "sd_vae_name", "sd_vae_hash", "seed_resize_from_w", "seed_resize_from_h", "denoising_strength",
             "extra_generation_params", "index_of_first_image", "infotexts", "styles", "job_timestamp",
             "clip_skip", "is_using_inpainting_conditioning", "version", "warnings", "interrupted"}


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _mask() -> Image.Image:
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    return mask


def keys(value: Any) -> Iterator[str]:
    """Every dict key anywhere in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


class Replay:
    """Fills a fixture's placeholders from the live server's state and sends each step."""

    def __init__(self, url: str):
        self.url, self.options, self.titles = url, {}, {}
        self.images = {"${image}": data_url(Image.new("RGB", (64, 64), (90, 120, 200))), "${mask}": data_url(_mask())}

    def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, str) and value in self.images:
            return self.images[value]
        if isinstance(value, str) and value.startswith("${title:"):
            stem = value[len("${title:"):-1]
            return next(t for t in self.titles.values() if t.split(" [")[0] == f"{stem}.safetensors")
        return value

    def send(self, step: dict) -> requests.Response:
        body = step.get("body")
        if body == "${options}":
            body = {**self.options, **self.fill(step.get("merge", {}))}
        else:
            body = self.fill(body)
        kwargs = {"json": body} if body is not None else {}
        response = requests.request(step["method"], self.url + step["path"], headers=step.get("headers"),
                                    timeout=120, **kwargs)
        if response.ok and step["method"] == "GET" and step["path"] == "/sdapi/v1/options":
            self.options = response.json()
        if response.ok and step["path"] == "/sdapi/v1/sd-models":
            self.titles = {m["model_name"]: m["title"] for m in response.json()}
        return response


def check_generation(step: dict, body: dict, data: dict) -> dict:
    """A txt2img/img2img answer: raw base64 PNGs, known fields only, a JSON-string info."""
    assert set(data) == {"images", "parameters", "info"}
    assert isinstance(data["info"], str)
    info = json.loads(data["info"])
    unknown = set(body) - set(BODIES[step["path"]].model_fields)
    assert unknown, "each recorded generation body carries some foreign keys"
    echoed = set(keys(data)) | (set(keys(info)) - set(info))  # info's own top-level keys are A1111's schema
    assert set(info) <= INFO_KEYS
    assert not echoed & unknown, f"unknown request keys echoed: {echoed & unknown}"
    assert set(data["parameters"]) <= set(BODIES[step["path"]].model_fields)
    for image in data["images"]:
        assert not image.startswith("data:")
        assert Image.open(io.BytesIO(base64.b64decode(image))).format == "PNG"
    assert isinstance(info["seed"], int) and isinstance(info["all_seeds"], list)
    assert isinstance(info["sd_model_name"], str) and len(info["infotexts"]) == len(data["images"])
    for title in body.get("alwayson_scripts") or {}:
        assert any(repr(title) in warning for warning in info["warnings"]), "ignored scripts are reported"
    wanted = (body.get("override_settings") or {}).get("sd_model_checkpoint")
    if wanted:
        assert info["sd_model_name"] == wanted and info["is_using_inpainting_conditioning"] is True
    return info


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_client_replay(live, name):
    server, ctx = live
    replay, fixture = Replay(server.url), json.loads((FIXTURES / f"{name}.json").read_text())
    for step in fixture["steps"]:
        response = replay.send(step)
        assert response.status_code == step.get("status", 200), (step["path"], response.text)
        assert response.headers["content-type"].startswith("application/json"), step["path"]
        assert SECRET not in response.text
        data = response.json()
        if response.status_code != 200:
            assert {"error", "detail", "body", "errors"} <= set(data)
        elif step["path"] in BODIES:
            check_generation(step, replay.fill(step["body"]), data)


def test_sillytavern_overrides_are_per_request_and_saving_works(live):
    server, ctx = live
    fixture = json.loads((FIXTURES / "sillytavern.json").read_text())
    replay = Replay(server.url)
    for step in fixture["steps"][:-2]:
        replay.send(step)
    before = requests.get(server.url + "/sdapi/v1/options", timeout=30).json()
    saved = set((ctx.paths.data_dir / "outputs").rglob("*.png"))
    data = replay.send(fixture["steps"][-2]).json()
    info = json.loads(data["info"])
    assert "Clip skip: 2" in info["infotexts"][0] and info["clip_skip"] == 2
    assert "Lora hashes" in info["extra_generation_params"]
    assert requests.get(server.url + "/sdapi/v1/options", timeout=30).json() == before, "overrides not kept"
    new = set((ctx.paths.data_dir / "outputs" / "txt2img-images").rglob("*.png")) - saved
    assert len(new) == 1 and Image.open(next(iter(new))).text["parameters"] == info["infotexts"][0]
