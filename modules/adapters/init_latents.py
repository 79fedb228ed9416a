"""img2img inputs as tensors: init images encoded by the VAE, latent masks, masked content, and the extra
input channels of inpainting (9-channel) UNets, following A1111's ``StableDiffusionProcessingImg2Img``.

Encoding uses the mode (mean) of the VAE's latent distribution, not a sample: A1111 samples it with the global
torch RNG, which makes its img2img output differ between identical runs; the SD VAEs' posterior is so narrow
that the mean is what a sample looks like, and it keeps our results reproducible.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

LATENT_NOISE, LATENT_NOTHING = 2, 3  # A1111 ``inpainting_fill`` values that act on the latent


def pixels(images: list[Image.Image]) -> torch.Tensor:
    """RGB images as a float batch in [-1, 1], shape (B, 3, H, W)."""
    arrays = [np.asarray(image.convert("RGB"), dtype=np.float32) / 127.5 - 1.0 for image in images]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)


def encode(vae, batch: torch.Tensor) -> torch.Tensor:
    """Latents of a [-1, 1] pixel batch with the VAE's scaling (and SDXL-style mean/std or shift) applied,
    the inverse of ``sampling.decode.decode_latents``; fp16 VAEs that ask for it encode in fp32."""
    config = vae.config
    upcast = vae.dtype == torch.float16 and getattr(config, "force_upcast", False)
    if upcast:
        vae.to(torch.float32)
    try:
        latents = vae.encode(batch.to(vae.device, vae.dtype)).latent_dist.mode().float()
    finally:
        if upcast:
            vae.to(torch.float16)
    mean, std = getattr(config, "latents_mean", None), getattr(config, "latents_std", None)
    if mean is not None and std is not None:
        shape = (1, -1, 1, 1)
        return (latents - torch.tensor(mean).view(shape).to(latents)) * config.scaling_factor / torch.tensor(
            std).view(shape).to(latents)
    return (latents - (getattr(config, "shift_factor", None) or 0.0)) * config.scaling_factor


def encode_images(vae, images: list[Image.Image], latent_size: tuple[int, int] | None) -> torch.Tensor:
    """Encode init images; with ``latent_size`` (resize mode 3) resize the latents bilinearly to (w, h)."""
    latents = torch.cat([encode(vae, pixels([image])) for image in images])
    if latent_size is not None and tuple(latents.shape[-2:]) != (latent_size[1], latent_size[0]):
        latents = F.interpolate(latents, size=(latent_size[1], latent_size[0]), mode="bilinear")
    return latents


def regenerate_mask(mask: Image.Image, like: torch.Tensor) -> torch.Tensor:
    """The latent-size L mask as a (1, 1, h, w) tensor in [0, 1]: 1 = regenerate, 0 = keep the init latent."""
    values = torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255.0)
    return values[None, None].to(like.device, like.dtype)


def apply_masked_content(init: torch.Tensor, regen: torch.Tensor, content: int, noise: torch.Tensor) -> torch.Tensor:
    """A1111's latent masked-content modes: "latent noise" puts the seed noise in the masked latent, "latent
    nothing" zeros; "fill" and "original" act on the picture before encoding."""
    if content == LATENT_NOISE:
        return init * (1 - regen) + noise.to(init) * regen
    if content == LATENT_NOTHING:
        return init * (1 - regen)
    return init


def inpainting_conditioning(vae, images: list[Image.Image], mask: Image.Image | None, weight: float,
                            latent_shape: tuple[int, ...]) -> torch.Tensor:
    """The 5 extra UNet input channels of inpainting models: mask + latents of the masked image.

    As A1111's ``inpainting_image_condition``: the masked image is ``lerp(image, image * (1 - mask), weight)``
    (``inpainting_mask_weight``), the mask is rounded, and without a mask the whole picture is masked.
    """
    source = pixels(images)
    if mask is None:
        pixel_mask = torch.ones((1, 1, *source.shape[-2:]))
    else:
        pixel_mask = torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255.0).round()[None, None]
        if tuple(pixel_mask.shape[-2:]) != tuple(source.shape[-2:]):
            pixel_mask = F.interpolate(pixel_mask, size=source.shape[-2:])
    masked = torch.lerp(source, source * (1.0 - pixel_mask), weight)
    latents = torch.cat([encode(vae, masked[i:i + 1]) for i in range(len(images))])
    if tuple(latents.shape[-2:]) != tuple(latent_shape[-2:]):
        latents = F.interpolate(latents, size=latent_shape[-2:], mode="bilinear")
    small = F.interpolate(pixel_mask, size=latents.shape[-2:]).expand(latents.shape[0], -1, -1, -1)
    return torch.cat([small.to(latents), latents], dim=1)


def blank_inpainting_conditioning(vae, batch: int, size: tuple[int, int]) -> torch.Tensor:
    """txt2img on an inpainting model: a grey picture, fully masked (A1111 ``txt2img_image_conditioning``)."""
    grey = Image.new("RGB", size, (127, 127, 127))
    latent_shape = (batch, 4, size[1] // 8, size[0] // 8)
    return inpainting_conditioning(vae, [grey] * batch, None, 1.0, latent_shape)
