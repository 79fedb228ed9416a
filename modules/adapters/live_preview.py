"""Live previews: a cheap latent-to-RGB picture of the sampler's current x0 estimate (no VAE call)."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from modules.core.model_family import ModelFamily

# Each latent channel's contribution to R, G and B: an empirical least-squares fit of the SD and SDXL VAE
# decoders (published figures; they only need to be roughly right for a preview). The VAE itself would cost
# a full decode per preview.
_SD_FACTORS = ((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350), (-0.2829, 0.1762, 0.2721),
               (-0.2120, -0.2616, -0.7177))
_SDXL_FACTORS = ((0.3920, 0.4054, 0.4549), (-0.2634, -0.0196, 0.0653), (0.0568, 0.1687, -0.0755),
                 (-0.3112, -0.2359, -0.2076))


def approximate_rgb(latents: torch.Tensor, family: ModelFamily) -> Image.Image:
    """The first latent of a batch as an RGB picture at latent size (1/8 of the image side)."""
    factors = torch.tensor(_SDXL_FACTORS if family.is_sdxl else _SD_FACTORS, dtype=torch.float32)
    latent = latents[0, :4].detach().to("cpu", torch.float32)
    rgb = torch.einsum("chw,cr->hwr", latent, factors)
    pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).round().to(torch.uint8).numpy()
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")
