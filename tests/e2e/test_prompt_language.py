"""A1111's prompt language end to end on a tiny SD1 checkpoint: emphasis, editing, long prompts, BREAK, AND,
clip skip and emphasis modes change (or keep) the image exactly as they should."""
from __future__ import annotations

import numpy as np
import pytest

from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint


@pytest.fixture(scope="module")
def ctx(tiny_checkpoint, tmp_path_factory):
    from modules import bootstrap
    from modules.interfaces import cli
    from tests.conftest import REPO

    data_dir = tmp_path_factory.mktemp("prompt-language")
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--precision", "full"], {},
                        install_dir=REPO)
    return bootstrap.create_context(options)


def _image(ctx, prompt: str, negative: str = "", steps: int = 4, size: int = 64, **settings):
    # 128 px where cond and uncond differ in length: they then run as separate one-row UNet batches, and the
    # tiny test UNet cannot group-normalise a single row at 64 px (its deepest feature map is 1x1).
    request = Txt2ImgRequest(prompt=prompt, negative_prompt=negative, steps=steps, width=size, height=size, seed=11,
                             sampler_name="Euler", cfg_scale=7.0, save_images=False, override_settings=settings)
    result = ctx.generation.txt2img(request)
    return np.asarray(result.images[0].image).astype(np.int16), result.images[0].infotext


def _differ(a, b) -> bool:
    return int(np.abs(a - b).max()) > 2


def test_emphasis_changes_the_image_unless_ignored(ctx):
    plain, _ = _image(ctx, "red ball")
    weighted, info = _image(ctx, "(red:1.5) ball")
    assert _differ(plain, weighted)
    assert "Emphasis" not in info
    ignored, info = _image(ctx, "(red:1.5) ball", emphasis="Ignore")
    assert np.array_equal(ignored, plain) and "Emphasis: Ignore" in info


def test_prompt_editing_differs_from_both_ends(ctx):
    cat, _ = _image(ctx, "a cat", steps=8)
    dog, _ = _image(ctx, "a dog", steps=8)
    edited, info = _image(ctx, "a [cat:dog:0.5]", steps=8)
    # the tiny random model settles its picture in the first steps, so the switch leaves a small mark
    assert not np.array_equal(edited, cat) and _differ(edited, dog)
    assert info.startswith("a [cat:dog:0.5]\n"), "the saved prompt keeps the syntax"
    assert np.array_equal(_image(ctx, "a [cat:dog:8]", steps=8)[0], cat), "switching after the last step keeps 'cat'"


def test_long_prompts_use_every_token(ctx):
    words = [f"w{i % 50}" for i in range(200)]
    base, _ = _image(ctx, " ".join(words), size=128)
    changed = list(words)
    changed[150] = "zebra"  # far beyond the 77 tokens one CLIP window holds
    assert _differ(base, _image(ctx, " ".join(changed), size=128)[0])


def test_break_starts_a_new_chunk(ctx):
    joined, _ = _image(ctx, "a cat, a dog", size=128)
    broken, _ = _image(ctx, "a cat BREAK a dog", size=128)
    assert _differ(joined, broken)


def test_and_combines_prompts_with_weights(ctx):
    cat, _ = _image(ctx, "a cat")
    dog, _ = _image(ctx, "a dog")
    both, _ = _image(ctx, "a cat AND a dog")
    assert _differ(both, cat) and _differ(both, dog)
    only_cat, _ = _image(ctx, "a cat AND a dog :0")
    assert not _differ(only_cat, cat), "a zero-weight part contributes nothing"


def test_clip_skip_two_differs_and_is_recorded(ctx):
    one, info_one = _image(ctx, "a cat")
    two, info_two = _image(ctx, "a cat", CLIP_stop_at_last_layers=2)
    assert _differ(one, two)
    assert "Clip skip" not in info_one and "Clip skip: 2" in info_two


def test_comments_are_stripped_before_encoding_and_saving(ctx):
    cat, _ = _image(ctx, "a cat")
    commented, info = _image(ctx, "a cat\n# a dog")
    assert np.array_equal(commented, cat)
    assert info.startswith("a cat\n") and "# a dog" not in info  # A1111 leaves the comment's line break
