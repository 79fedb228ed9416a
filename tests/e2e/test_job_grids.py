"""A txt2img job with several images makes `grid-NNNN.png` in the grids folder, shown first in the results."""
from __future__ import annotations

import numpy as np

from modules.core.params import Txt2ImgRequest
from modules.core.png_info import read_png_parameters
from tests.conftest import install_checkpoint


def _request(**overrides) -> Txt2ImgRequest:
    base = dict(prompt="a red circle", steps=2, sampler_name="Euler", cfg_scale=7, width=64, height=64, seed=5,
                batch_size=2, n_iter=2)
    base.update(overrides)
    return Txt2ImgRequest(**base)


def test_txt2img_batch_saves_a_grid_first(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    result = ctx.generation.txt2img(_request())
    assert result.grid is not None and result.index_of_first_image == 1
    assert result.gallery[0] is result.grid and len(result.gallery) == 5
    assert result.grid.image.size == (128, 128)  # 4 images, n_rows -1 -> 2 rows
    top_right = np.asarray(result.grid.image.crop((64, 0, 128, 64)))
    assert np.array_equal(top_right, np.asarray(result.images[1].image.convert("RGB")))
    path = result.grid.path
    assert path.name == "grid-0000.png" and path.parent.parent.name == "txt2img-grids"
    assert read_png_parameters(path) == result.images[0].infotext
    assert "Seed: 5," in read_png_parameters(path)
    again = ctx.generation.txt2img(_request(n_iter=1))
    assert again.grid.path.name == "grid-0001.png" and again.grid.image.size == (128, 64)


def test_no_grid_without_saving_or_for_one_image(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    assert ctx.generation.txt2img(_request(save_images=False)).grid is None
    single = ctx.generation.txt2img(_request(batch_size=1, n_iter=1))
    assert single.grid is None and single.index_of_first_image == 0
    ctx.settings.update({"n_rows": 0, "return_grid": False})
    hidden = ctx.generation.txt2img(_request(n_iter=2, batch_size=2))
    assert hidden.grid is None
    saved = sorted((data_dir / "outputs" / "txt2img-grids").rglob("grid-*.png"))
    assert [p.name for p in saved] == ["grid-0000.png"]
