"""Family detection from keys and shapes, A1111's sidecar .yaml override, and clear refusals."""
from __future__ import annotations

import shutil

import pytest

from modules.core.errors import UnsupportedModel
from modules.core.model_family import ModelFamily
from modules.core.params import Txt2ImgRequest
from tests.conftest import install_checkpoint

V_YAML = "model:\n  params:\n    parameterization: \"v\"\n"
EPS_YAML = "model:\n  params:\n    linear_start: 0.00085\n"


@pytest.mark.parametrize("yaml_text,expected", [(V_YAML, ModelFamily.SD2_V), (EPS_YAML, ModelFamily.SD2)])
def test_sidecar_yaml_decides_sd2_parameterization(yaml_text, expected, tiny_checkpoint, make_context, data_dir):
    folder = data_dir / "models" / "Stable-diffusion"
    folder.mkdir(parents=True)
    path = folder / "two.safetensors"
    shutil.copy2(tiny_checkpoint("sd2"), path)
    path.with_suffix(".yaml").write_text(yaml_text)
    ctx = make_context()
    assert ctx.models.select_checkpoint("two").family is expected
    assert ctx.generation.txt2img(Txt2ImgRequest(steps=1, width=64, height=64, save_images=False)).images


def test_sdxl_refiner_is_recognised_and_refused_for_txt2img_by_name(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sdxl-refiner"), data_dir / "models" / "Stable-diffusion", "ref.safetensors")
    ctx = make_context()
    assert ctx.models.select_checkpoint("ref").family is ModelFamily.SDXL_REFINER
    with pytest.raises(UnsupportedModel, match="ref.safetensors"):
        ctx.generation.txt2img(Txt2ImgRequest(steps=1, width=64, height=64, save_images=False))


def test_inpainting_checkpoint_is_recognised(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15-inpaint"), data_dir / "models" / "Stable-diffusion", "inp.safetensors")
    ctx = make_context()
    assert ctx.models.select_checkpoint("inp").family is ModelFamily.SD1_INPAINT
