"""Case 26: our PNG, JPEG and WEBP outputs read the same in ``/png-info`` and in an independent reader written the
way the common tools read A1111 files (PNG ``parameters`` text chunk; EXIF UserComment = ``UNICODE\\0`` +
UTF-16-BE for JPEG/WEBP, read through Pillow, never piexif on raw bytes): prompt, negative prompt, steps, sampler,
seed and size agree."""
from __future__ import annotations

import base64

import pytest
from PIL import Image

from tests.support.api_client import api_client


PROMPT = 'a "quoted" cat, café: 猫 (detail:1.2)'
NEGATIVE = "blurry, lowres"


def independent_reader(path) -> str:
    """What sd-prompt-reader / sd-parsers style readers get from an A1111 image."""
    image = Image.open(path)
    if image.format == "PNG":
        return image.info["parameters"]
    comment = image.getexif().get_ifd(0x8769)[0x9286]
    assert comment[:8] == b"UNICODE\0", comment[:8]
    return comment[8:].decode("utf-16-be")


def fields_of(text: str) -> dict:
    prompt, negative_line, params = text.split("\n")
    items = dict(part.split(": ", 1) for part in params.split(", ") if ": " in part)
    return {"prompt": prompt, "negative": negative_line.removeprefix("Negative prompt: "), "steps": items["Steps"],
            "sampler": items["Sampler"], "seed": items["Seed"], "size": items["Size"]}


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_checkpoint):
    with api_client(tmp_path_factory.mktemp("metadata") / "data", checkpoint=tiny_checkpoint("sd15")) as test_client:
        yield test_client


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_three_readers_agree(client, fmt):
    client.ctx.settings.update({"samples_format": fmt})
    outputs = client.data_dir / "outputs"
    before = set(outputs.rglob(f"*.{fmt}")) if outputs.exists() else set()
    body = {"prompt": PROMPT, "negative_prompt": NEGATIVE, "steps": 3, "width": 64, "height": 72, "seed": 77,
            "sampler_name": "DPM++ 2M", "scheduler": "Karras", "save_images": True}
    assert client.post("/sdapi/v1/txt2img", json=body).status_code == 200
    [path] = set(outputs.rglob(f"*.{fmt}")) - before
    ours = client.post("/sdapi/v1/png-info", json={"image": base64.b64encode(path.read_bytes()).decode()}).json()
    theirs = fields_of(independent_reader(path))
    parsed = ours["parameters"]
    assert theirs == {"prompt": PROMPT, "negative": NEGATIVE, "steps": "3", "sampler": "DPM++ 2M", "seed": "77",
                      "size": "64x72"}
    assert (parsed["Prompt"], parsed["Negative prompt"], str(parsed["Steps"]), parsed["Sampler"], str(parsed["Seed"]),
            parsed["Size"]) == (PROMPT, NEGATIVE, "3", "DPM++ 2M", "77", "64x72")
    assert ours["info"] == independent_reader(path)
