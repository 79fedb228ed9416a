"""The img2img Batch sub-tab: one request per image (with its mask), results saved under the input's name."""
from __future__ import annotations

import pytest
from PIL import Image

from modules.core.errors import InvalidRequest
from modules.core.results import GeneratedImage, GenerationResult
from modules.interfaces.gradio_ui.img2img_batch_run import run_batch
from tests.interfaces.test_img2img_tab import values


def _result(request) -> GenerationResult:
    image = request.init_images[0].convert("RGB").resize((request.width, request.height))
    made = tuple(GeneratedImage(image=image, seed=5, infotext=f"p\nSteps: {request.steps}") for _ in range(2))
    return GenerationResult(images=made, prompt="p", negative_prompt="", seed=5, sampler_name="Euler",
                            schedule_label="Automatic", steps=request.steps, cfg_scale=7, width=request.width,
                            height=request.height, batch_size=2, model_name="tiny", model_hash=None,
                            job_timestamp="20260101000000")


def test_folder_batch_with_masks_saves_named_outputs(make_context, data_dir, tmp_path):
    ctx = make_context()
    (tmp_path / "in").mkdir()
    (tmp_path / "masks").mkdir()
    for name in ("b.png", "a.png"):
        Image.new("RGB", (16, 16), "red").save(tmp_path / "in" / name)
        Image.new("L", (16, 16), 255).save(tmp_path / "masks" / name)
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    requests = []

    def generate(request):
        requests.append(request)
        return _result(request)

    results, skipped = run_batch(ctx, values(mode="batch", batch_input_dir=str(tmp_path / "in"),
                                             batch_mask_dir=str(tmp_path / "masks"),
                                             batch_output_dir="outputs/batch-out", steps=3, width=32, height=32),
                                 generate)
    assert len(results) == 2 and len(skipped) == 1
    assert [r.mask.size for r in requests] == [(16, 16), (16, 16)] and not any(r.save_images for r in requests)
    out = data_dir / "outputs" / "batch-out"
    assert sorted(p.name for p in out.iterdir()) == ["a-1.png", "a-2.png", "b-1.png", "b-2.png"]
    assert Image.open(out / "a-1.png").text["parameters"] == "p\nSteps: 3"


def test_batch_without_output_folder_saves_as_usual_and_needs_an_input_folder(make_context, tmp_path):
    ctx = make_context()
    (tmp_path / "in").mkdir()
    Image.new("RGB", (16, 16)).save(tmp_path / "in" / "x.png")
    seen = []
    run_batch(ctx, values(mode="batch", batch_input_dir=str(tmp_path / "in")),
              lambda r: seen.append(r) or _result(r))
    assert seen[0].save_images is True and seen[0].mask is None
    with pytest.raises(InvalidRequest, match="input directory"):
        run_batch(ctx, values(mode="batch"), _result)
    with pytest.raises(InvalidRequest, match="outside"):
        run_batch(ctx, values(mode="batch", batch_input_dir=str(tmp_path / "in"), batch_output_dir="../../x"),
                  _result)
