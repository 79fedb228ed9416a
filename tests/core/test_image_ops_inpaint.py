"""img2img/inpaint image preparation and paste-back (modules.core.img2img_inputs) on real pictures."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageChops

from modules.core.img2img_inputs import (BLANK_MASK_MESSAGE, MaskedContent, apply_overlay, img2img_infotext,
                                         prepare_img2img)
from modules.core.masking import blur_mask
from modules.core.params import Img2ImgRequest
from tests.core.image_samples import box_mask, noise_image, picture


def _request(**fields) -> Img2ImgRequest:
    base = {"init_images": (picture(128, 96),), "width": 128, "height": 96}
    base.update(fields)
    return Img2ImgRequest(**base)


def _equal_where(a: Image.Image, b: Image.Image, where: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a)[where], np.asarray(b)[where])


def test_plain_img2img_resizes_and_has_no_mask():
    prepared = prepare_img2img(_request(width=64, height=64, resize_mode=1))
    assert [im.size for im in prepared.images] == [(64, 64)]
    assert prepared.mask is None and prepared.overlays == (None,) and prepared.masked_content is None
    generated = noise_image(64, 64)
    assert apply_overlay(generated, prepared) is generated
    assert prepared.infotext == ()


def test_whole_picture_paste_back_keeps_everything_outside_the_blurred_mask():
    mask = box_mask((128, 96), (40, 30, 80, 60))
    request = _request(mask=mask, inpaint_full_res=False, mask_blur=4, inpainting_fill=1)
    prepared = prepare_img2img(request)
    generated = noise_image(128, 96)
    out = apply_overlay(generated, prepared)
    blurred = np.asarray(blur_mask(mask, 4, 4))
    original = request.init_images[0]
    assert out.size == (128, 96)
    assert _equal_where(out, original, blurred == 0)          # outside the blur: the original, bit for bit
    assert _equal_where(out, generated, blurred >= 128)        # overlay mask = 2 x blur saturates: generated
    assert not _equal_where(out, original, blurred > 0)
    assert np.array_equal(np.asarray(prepared.images[0]), np.asarray(original))  # "original": image untouched


def test_invert_regenerates_the_unmasked_part():
    mask = box_mask((128, 96), (40, 30, 80, 60))
    prepared = prepare_img2img(_request(mask=mask, inpaint_full_res=False, mask_blur=0, inpainting_mask_invert=1))
    out = apply_overlay(noise_image(128, 96), prepared)
    inside = np.asarray(mask) == 255
    assert _equal_where(out, picture(128, 96), inside)
    assert not _equal_where(out, picture(128, 96), ~inside)
    assert dict(prepared.infotext)["Mask mode"] == "Inpaint not masked"


def test_only_masked_crops_expands_and_pastes_back_into_the_box():
    init = picture(256, 192)
    mask = box_mask((256, 192), (150, 40, 170, 50))  # 20x10 blob
    request = Img2ImgRequest(init_images=(init,), mask=mask, width=64, height=64, mask_blur=2,
                             inpaint_full_res=True, inpaint_full_res_padding=8, inpainting_fill=1)
    prepared = prepare_img2img(request)
    # bbox of the blurred mask (radius 5) + 8 padding = (137, 27, 183, 63): 46x36 -> square 46x46
    assert prepared.paste_box == (137, 22, 46, 46)
    assert prepared.images[0].size == (64, 64) and prepared.mask.size == (64, 64)
    expected = init.crop((137, 22, 183, 68)).resize((64, 64), Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(prepared.images[0]), np.asarray(expected))
    out = apply_overlay(noise_image(64, 64), prepared)
    assert out.size == (256, 192)  # A1111 returns the init image's size in "only masked" mode
    outside = np.ones((192, 256), bool)
    outside[22:68, 137:183] = False
    assert _equal_where(out, init, outside)
    assert _equal_where(out, init, np.asarray(blur_mask(mask, 2, 2)) == 0)
    assert ImageChops.difference(out, init).getbbox() is not None
    assert dict(prepared.infotext) == {"Inpaint area": "Only masked", "Masked area padding": 8, "Mask blur": 2}


def test_blank_mask_with_only_masked_falls_back_to_img2img():
    prepared = prepare_img2img(_request(mask=Image.new("L", (128, 96)), inpaint_full_res=True))
    assert prepared.mask is None and prepared.overlays == (None,) and prepared.warnings == (BLANK_MASK_MESSAGE,)


@pytest.mark.parametrize("fill", [0, 2, 3])
def test_masked_content_fill_prefills_only_the_masked_area(fill):
    mask = box_mask((128, 96), (40, 30, 80, 60))
    prepared = prepare_img2img(_request(mask=mask, inpaint_full_res=False, mask_blur=0, inpainting_fill=fill))
    original = picture(128, 96)
    inside = np.asarray(mask) == 255
    assert _equal_where(prepared.images[0], original, ~inside)
    assert not _equal_where(prepared.images[0], original, inside)
    assert prepared.masked_content is MaskedContent(fill)
    assert dict(prepared.infotext)["Masked content"] == MaskedContent(fill).label


def test_latent_mask_replaces_the_mask_for_the_blend_and_fill():
    mask = box_mask((128, 96), (40, 30, 80, 60))
    latent = box_mask((128, 96), (0, 0, 10, 10))
    prepared = prepare_img2img(_request(mask=mask, latent_mask=latent, inpaint_full_res=False, mask_blur=0))
    assert prepared.latent_mask.getbbox() == (0, 0, 10, 10) and prepared.mask.getbbox() == (40, 30, 80, 60)
    changed = ImageChops.difference(prepared.images[0], picture(128, 96)).getbbox()
    assert changed is not None and changed[2] <= 10 and changed[3] <= 10


def test_whole_picture_mask_of_another_size_is_resized_like_the_image():
    mask = box_mask((64, 48), (20, 15, 40, 30))  # half-size mask of the same picture
    prepared = prepare_img2img(_request(mask=mask, inpaint_full_res=False, mask_blur=0, width=128, height=96))
    assert prepared.mask.size == (128, 96)
    left, top, right, bottom = prepared.mask.point(lambda v: 255 if v >= 128 else 0).getbbox()  # past ringing
    assert abs(left - 40) <= 2 and abs(top - 30) <= 2 and abs(right - 80) <= 2 and abs(bottom - 60) <= 2


def test_latent_upscale_mode_keeps_images_and_reports_the_latent_size():
    prepared = prepare_img2img(_request(resize_mode=3, width=256, height=192))
    assert prepared.images[0].size == (128, 96) and prepared.latent_size == (32, 24)
    masked = prepare_img2img(_request(resize_mode=3, width=256, height=192, inpaint_full_res=False,
                                      mask=box_mask((128, 96), (40, 30, 80, 60))))
    assert masked.overlays[0].size == (256, 192)  # the output is W x H: the overlay matches it
    assert apply_overlay(noise_image(256, 192), masked).size == (256, 192)


def test_transparent_init_image_is_flattened_on_the_background():
    image = picture(128, 96).convert("RGBA")
    image.putpixel((0, 0), (1, 2, 3, 0))
    prepared = prepare_img2img(_request(init_images=(image,)), background="#000000")
    assert prepared.images[0].mode == "RGB" and prepared.images[0].getpixel((0, 0)) == (0, 0, 0)


def test_infotext_keys_and_order_ui_versus_api():
    mask = box_mask((128, 96), (40, 30, 80, 60))
    ui = _request(mask=mask, source="ui", mask_blur=0, inpainting_mask_invert=1, inpaint_full_res=False,
                  inpainting_fill=1)
    assert img2img_infotext(ui, has_mask=True) == (("Mask blur", 0), ("Mask mode", "Inpaint not masked"))
    api = _request(mask=mask, source="api", mask_blur=4, inpainting_mask_invert=1, inpaint_full_res_padding=32,
                   initial_noise_multiplier=0.9)
    assert img2img_infotext(api, has_mask=True) == (
        ("Mask mode", "Inpaint not masked"), ("Mask blur", 4), ("Inpaint area", "Only masked"),
        ("Masked area padding", 32), ("Masked content", "fill"), ("Noise multiplier", 0.9))
    uneven = _request(mask=mask, source="api", mask_blur_x=4, mask_blur_y=8, inpainting_fill=1,
                      inpaint_full_res=False)
    assert img2img_infotext(uneven, has_mask=True) == ()
    assert img2img_infotext(_request(), has_mask=False) == ()


def test_only_masked_in_latent_mode_needs_no_latent_resize():
    mask = box_mask((128, 96), (40, 30, 80, 60))
    prepared = prepare_img2img(_request(resize_mode=3, width=64, height=64, mask=mask, inpaint_full_res=True))
    assert prepared.images[0].size == (64, 64) and prepared.latent_size is None


def test_the_upscaler_hook_enlarges_init_images():
    seen = []

    def upscaler(image, scale):
        seen.append((image.size, scale))
        return image.resize((image.width * 4, image.height * 4), Image.Resampling.NEAREST)

    prepared = prepare_img2img(_request(width=512, height=384), upscaler=upscaler)
    assert seen == [((128, 96), 4.0)] and prepared.images[0].size == (512, 384)
    expected = picture(128, 96).resize((512, 384), Image.Resampling.NEAREST)
    assert ImageChops.difference(prepared.images[0], expected).getbbox() is None
