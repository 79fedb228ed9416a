"""The inpainting blend on the model's x0 estimate (adapters.sampling.masked) for eps and v models."""
from __future__ import annotations

import pytest
import torch

from modules.adapters.sampling.masked import MaskedModel
from modules.adapters.sampling.model_sigmas import ModelSigmas
from modules.adapters.sampling.types import DenoiserOutput

TABLE = ModelSigmas.from_alphas_cumprod(torch.linspace(0.999, 0.005, 1000))


def _x0(x_in, out, sigma, v):
    sqrt_a, sqrt_1ma = 1 / (1 + sigma ** 2) ** 0.5, sigma / (1 + sigma ** 2) ** 0.5
    return sqrt_a * x_in - sqrt_1ma * out if v else (x_in - sqrt_1ma * out) / sqrt_a


@pytest.mark.parametrize("v_prediction", [False, True])
def test_kept_area_predicts_the_init_latent_and_the_masked_area_is_untouched(v_prediction):
    torch.manual_seed(0)
    init, x_in, raw = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    regen = torch.zeros(1, 1, 8, 8)
    regen[..., 2:6, 2:6] = 1

    def model(x, t, step):
        return DenoiserOutput(guided=raw.clone(), uncond=None)
    t = torch.tensor([500.0])
    sigma = float(TABLE.t_to_sigma(t))
    out = MaskedModel(model, TABLE, init, regen, v_prediction=v_prediction)(x_in, t, 0)
    x0 = _x0(x_in, out.guided, sigma, v_prediction)
    keep = regen.expand_as(x0) == 0
    assert torch.allclose(x0[keep], init[keep], atol=1e-4)
    assert torch.allclose(out.guided[~keep], raw[~keep], atol=1e-4), "the masked area keeps the model's output"
