"""Img2ImgRequest defaults, validate_img2img messages and batch planning."""
from __future__ import annotations

import dataclasses

import pytest
from PIL import Image

from modules.core.denoising import img2img_steps
from modules.core.errors import InvalidRequest
from modules.core.img2img_batch import plan_batch
from modules.core.params import UI_IMG2IMG_DEFAULTS, GenerationRequest, Img2ImgRequest, Txt2ImgRequest
from modules.core.validation import validate_img2img, validate_txt2img
from tests.core.image_samples import box_mask, picture


def _valid(**fields) -> Img2ImgRequest:
    base = {"init_images": (picture(64, 64),), "width": 64, "height": 64}
    base.update(fields)
    return Img2ImgRequest(**base)


def test_api_defaults_and_ui_differences():
    request = Img2ImgRequest()
    assert (request.denoising_strength, request.resize_mode, request.inpainting_fill, request.inpaint_full_res,
            request.inpaint_full_res_padding, request.mask_blur_xy, request.image_cfg_scale) == (
        0.75, 0, 0, True, 0, (4, 4), None)
    assert dict(UI_IMG2IMG_DEFAULTS) == {"mask_blur": 4, "inpainting_fill": 1, "inpaint_full_res": False,
                                         "inpaint_full_res_padding": 32, "image_cfg_scale": 1.5}
    assert set(UI_IMG2IMG_DEFAULTS) <= {f.name for f in dataclasses.fields(Img2ImgRequest)}


def test_mask_blur_sets_both_directions():
    assert _valid(mask_blur=9, mask_blur_x=1, mask_blur_y=2).mask_blur_xy == (9, 9)
    assert _valid(mask_blur_x=1, mask_blur_y=2).mask_blur_xy == (1, 2)


def test_txt2img_request_is_unchanged_for_its_users():
    request = Txt2ImgRequest(prompt="a cat", steps=20, width=64, height=64)
    assert isinstance(request, GenerationRequest) and not isinstance(request, Img2ImgRequest)
    assert [f.name for f in dataclasses.fields(Txt2ImgRequest)][:4] == ["prompt", "negative_prompt", "styles", "steps"]
    validate_txt2img(request)


def test_a_valid_request_passes():
    validate_img2img(_valid(mask=box_mask((64, 64), (8, 8, 16, 16))))


@pytest.mark.parametrize(("fields", "message"), [
    ({"init_images": ()}, "img2img needs an init image"),
    ({"denoising_strength": 1.5}, "denoising_strength must be between 0 and 1, got 1.5"),
    ({"resize_mode": 5}, "resize_mode must be 0, 1, 2 or 3, got 5"),
    ({"inpainting_fill": 4}, "inpainting_fill must be 0 (fill)"),
    ({"inpainting_mask_invert": 2}, "inpainting_mask_invert must be 0"),
    ({"mask_blur": -1}, "mask_blur must be between 0 and 256"),
    ({"mask_blur_y": 300}, "mask_blur_y must be between 0 and 256"),
    ({"inpaint_full_res_padding": -4}, "inpaint_full_res_padding must be between 0"),
    ({"width": 100}, "width must be a multiple of 8, got 100"),
    ({"init_images": (picture(64, 64),) * 3, "batch_size": 2}, "got 3 init images for batch_size 2"),
    ({"mask": box_mask((32, 32), (0, 0, 8, 8))}, "mask is 32x32 but the init image is 64x64"),
    ({"latent_mask": box_mask((32, 32), (0, 0, 8, 8))}, "latent_mask is 32x32; it must be width x height"),
    ({"init_images": (Image.new("RGB", (20000, 1)),)}, "init image 1 is 20000x1"),
    ({"image_cfg_scale": -1.0}, "image_cfg_scale must be between 0 and 100"),
    ({"mask": Image.new("L", (17000, 64)), "inpaint_full_res": False}, "mask is 17000x64; each side"),
])
def test_invalid_requests_name_the_field(fields, message):
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_img2img(_valid(**fields))


def test_whole_picture_accepts_a_mask_of_another_size():
    validate_img2img(_valid(mask=box_mask((32, 32), (0, 0, 8, 8)), inpaint_full_res=False))


def _write_image(path, size=(16, 16)):
    path.parent.mkdir(parents=True, exist_ok=True)
    picture(*size).save(path)


def test_batch_plan_order_skips_and_names(tmp_path):
    inputs = tmp_path / "in"
    for name in ("b10.png", "a.png", "B2.jpg", "sub/c.webp"):
        _write_image(inputs / name)
    (inputs / "notes.txt").write_text("not a picture")
    (inputs / "broken.png").write_bytes(b"this is not a png")
    (inputs / ".hidden.png").write_bytes(b"")
    plan = plan_batch(inputs)
    assert [item.image.relative_to(inputs).as_posix() for item in plan.items] == ["a.png", "B2.jpg", "b10.png",
                                                                                  "sub/c.webp"]
    assert not plan.is_inpaint and all(item.mask is None for item in plan.items)
    assert len(plan.skipped) == 2
    assert any(m.startswith("notes.txt: not an image file") for m in plan.skipped)
    assert any(m.startswith("broken.png: cannot be read") for m in plan.skipped)
    assert [plan.items[1].output_name(i, 2) for i in range(2)] == ["B2-1", "B2-2"]
    assert plan.items[0].output_name(0, 1) == "a"


def test_batch_masks_are_paired_by_name(tmp_path):
    inputs, masks = tmp_path / "in", tmp_path / "masks"
    for name in ("cat.png", "dog.jpg", "fox.png"):
        _write_image(inputs / name)
    _write_image(masks / "cat.png")
    _write_image(masks / "dog.png")  # another extension than the image: matched by stem
    plan = plan_batch(inputs, masks)
    assert plan.is_inpaint
    assert [(i.image.name, i.mask.name) for i in plan.items] == [("cat.png", "cat.png"), ("dog.jpg", "dog.png")]
    assert plan.skipped == ("fox.png: no mask named fox.* in the mask folder",)


def test_a_single_mask_serves_every_image_and_an_empty_folder_means_img2img(tmp_path):
    inputs, masks, empty = tmp_path / "in", tmp_path / "masks", tmp_path / "empty"
    for name in ("one.png", "two.png"):
        _write_image(inputs / name)
    _write_image(masks / "only.png")
    empty.mkdir()
    assert {item.mask.name for item in plan_batch(inputs, masks).items} == {"only.png"}
    assert not plan_batch(inputs, empty).is_inpaint
    with pytest.raises(InvalidRequest, match="does not exist"):
        plan_batch(tmp_path / "missing")


def test_img2img_steps_follow_a1111_and_map_exactly_to_diffusers():
    steps = img2img_steps(20, 0.75)
    assert (steps.run, steps.schedule, steps.start) == (16, 20, 4)  # spec: t_enc 15, 16 steps from index 4
    for total in range(1, 151):
        for tenth in range(0, 11):
            for fix in (False, True):
                plan = img2img_steps(total, tenth / 10, fix)
                # diffusers runs min(int(schedule * strength), schedule) steps of a `schedule`-step schedule
                assert min(int(plan.schedule * plan.diffusers_strength), plan.schedule) == plan.run
                if fix and tenth:
                    assert plan.run == total and plan.schedule == int(total / min(tenth / 10, 0.999))
                elif not fix:
                    assert plan.schedule == total and plan.run == int(min(tenth / 10, 0.999) * total) + 1
    with pytest.raises(InvalidRequest, match="denoising_strength must be between 0 and 1"):
        img2img_steps(20, 1.2)
