"""img2img, inpainting, outpainting and inpainting checkpoints end to end on tiny SD1 checkpoints (real
pipeline): strength semantics, exact paste-back outside the mask, masked-content modes, 9-channel UNets."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from modules.core.outpaint import Outpaint, plan_outpaint
from modules.core.params import Img2ImgRequest
from tests.conftest import install_checkpoint

SIZE = 64
# A random tiny VAE does not reconstruct pictures, so "returns the input" is measured against the VAE round
# trip: strength 0 with ``img2img_fix_steps`` runs no step and is exactly decode(encode(input)).


@pytest.fixture(scope="module")
def ctx(tiny_checkpoint, tmp_path_factory):
    from modules import bootstrap
    from modules.interfaces import cli
    from tests.conftest import REPO

    data_dir = tmp_path_factory.mktemp("img2img")
    folder = data_dir / "models" / "Stable-diffusion"
    install_checkpoint(tiny_checkpoint("sd15"), folder, "base.safetensors")
    install_checkpoint(tiny_checkpoint("sd15-inpaint"), folder, "inpaint.safetensors")
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    return bootstrap.create_context(options)


def picture(width: int = SIZE, height: int = SIZE, shift: int = 0) -> Image.Image:
    """A deterministic colourful picture (gradients and a disc)."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    rgb = np.stack([(x * 4 + shift) % 256, (y * 4) % 256, ((x + y) * 2 + 3 * shift) % 256], axis=-1)
    image = Image.fromarray(rgb.astype(np.uint8))
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(200, 40, 90))
    return image


def centre_mask(width: int = SIZE, height: int = SIZE, box=(24, 24, 40, 40)) -> Image.Image:
    mask = Image.new("L", (width, height), 0)
    mask.paste(255, box)
    return mask


def run(ctx, **fields):
    values = dict(prompt="a red ball", steps=4, width=SIZE, height=SIZE, seed=3, sampler_name="Euler",
                  cfg_scale=5.0, save_images=False, init_images=(picture(),), checkpoint="base")
    values.update(fields)
    result = ctx.generation.img2img(Img2ImgRequest(**values))
    return result


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(np.int16)


def test_strength_zero_keeps_the_input_and_one_ignores_it(ctx):
    round_trip = pixels(run(ctx, denoising_strength=0.0, override_settings={"img2img_fix_steps": True})
                        .images[0].image)
    other_seed = run(ctx, denoising_strength=0.0, seed=99, prompt="x", override_settings={"img2img_fix_steps": True})
    assert np.array_equal(pixels(other_seed.images[0].image), round_trip), "zero steps: nothing but the VAE"
    # without the setting A1111 still runs one step at the lowest sigma: closer to the input than strength 1
    one_step = pixels(run(ctx, denoising_strength=0.0).images[0].image)
    full_a = pixels(run(ctx, denoising_strength=1.0).images[0].image)
    assert np.abs(one_step - round_trip).mean() < np.abs(full_a - round_trip).mean()
    full_b = pixels(run(ctx, denoising_strength=1.0, init_images=(picture(shift=120),)).images[0].image)
    assert np.abs(full_a - round_trip).mean() > 20, "strength 1 does not keep the picture"
    # 1.0 is capped at 0.999 (A1111): the init latent adds 1/sigma_max of itself, a trace
    assert np.abs(full_a - full_b).mean() < np.abs(full_a - round_trip).mean() / 4


@pytest.mark.parametrize("sampler", ["Euler", "Euler a"])  # diffusers' loop, then ours (Karras: our runner)
def test_inpaint_only_masked_keeps_everything_outside_the_blurred_mask(ctx, sampler):
    source = picture()
    result = run(ctx, mask=centre_mask(), denoising_strength=0.9, inpaint_full_res=True,
                 inpaint_full_res_padding=8, mask_blur=2, sampler_name=sampler, scheduler="Karras")
    out = pixels(result.images[0].image)
    assert result.images[0].image.size == (SIZE, SIZE)
    outside = np.ones((SIZE, SIZE), bool)
    outside[24 - 6:40 + 6, 24 - 6:40 + 6] = False  # the mask grown by the blur's reach (kernel radius 5 + 1)
    assert np.array_equal(out[outside], pixels(source)[outside])
    assert np.abs(out[28:36, 28:36] - pixels(source)[28:36, 28:36]).mean() > 5, "the masked area was regenerated"
    info = result.images[0].infotext
    assert "Denoising strength: 0.9" in info and "Mask blur: 2" in info and "Inpaint area: Only masked" in info


def test_whole_picture_inpaint_and_masked_content_modes(ctx):
    outs = {}
    for fill in (0, 1, 2, 3):
        # a low strength, so the init latent (where the modes differ) still shows through the tiny random model
        result = run(ctx, mask=centre_mask(), denoising_strength=0.25, inpaint_full_res=False, mask_blur=0,
                     inpainting_fill=fill)
        outs[fill] = pixels(result.images[0].image)
        outside = np.ones((SIZE, SIZE), bool)
        outside[24:40, 24:40] = False
        assert np.array_equal(outs[fill][outside], pixels(picture())[outside])
        label = ("fill", None, "latent noise", "latent nothing")[fill]
        assert (f"Masked content: {label}" in result.images[0].infotext) == (label is not None)
    inside = (slice(24, 40), slice(24, 40))
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.abs(outs[a][inside] - outs[b][inside]).max() > 2, f"modes {a} and {b} gave the same picture"


def test_inpainting_checkpoint_uses_masked_image_conditioning(ctx):
    base = run(ctx, checkpoint="inpaint", mask=centre_mask(), inpaint_full_res=False, mask_blur=0,
               inpainting_fill=1)
    info = base.images[0].infotext
    assert "Conditional mask weight: 1.0" in info
    half = run(ctx, checkpoint="inpaint", mask=centre_mask(), inpaint_full_res=False, mask_blur=0, inpainting_fill=1,
               override_settings={"inpainting_mask_weight": 0.5})
    assert "Conditional mask weight: 0.5" in half.images[0].infotext
    assert not np.array_equal(pixels(base.images[0].image), pixels(half.images[0].image))
    outside = np.ones((SIZE, SIZE), bool)
    outside[24:40, 24:40] = False
    assert np.array_equal(pixels(base.images[0].image)[outside], pixels(picture())[outside])
    plain = run(ctx, checkpoint="inpaint", denoising_strength=0.5)  # img2img on an inpainting model
    assert plain.images[0].image.size == (SIZE, SIZE)
    from modules.core.params import Txt2ImgRequest
    txt = ctx.generation.txt2img(Txt2ImgRequest(prompt="a cat", steps=2, width=SIZE, height=SIZE, seed=1,
                                                sampler_name="Euler", save_images=False, checkpoint="inpaint"))
    assert "Conditional mask weight: 1.0" in txt.images[0].infotext, "txt2img: grey, fully masked conditioning"


def test_outpaint_right_grows_the_canvas_and_keeps_the_original(ctx):
    source = picture()
    spec = Outpaint(right=64, mask_blur=4)
    result = run(ctx, outpaint=spec, denoising_strength=0.8, width=SIZE, height=SIZE)
    out = result.images[0].image
    assert out.size == (SIZE + 64, SIZE)
    box = plan_outpaint(source, spec).preserved_box
    assert box[0] == 0 and box[2] > 0
    assert np.array_equal(pixels(out.crop(box)), pixels(source.crop(box)))
    assert "Size: 128x64" in result.images[0].infotext


def test_img2img_saves_to_the_img2img_folder(ctx):
    result = run(ctx, save_images=True, denoising_strength=0.5)
    path = result.images[0].path
    assert path is not None and "img2img-images" in path.parts
    assert Image.open(path).text["parameters"] == result.images[0].infotext
