"""From a prepared img2img/inpaint request to the backend's `InitSpec`, and the request-level steps around it
(outpainting, settings defaults) that `GenerationService.img2img` runs before sampling."""
from __future__ import annotations

import dataclasses

from .denoising import img2img_steps
from .img2img_inputs import PreparedImg2Img
from .masking import latent_mask_for
from .outpaint import plan_outpaint
from .params import Img2ImgRequest, InitSpec
from .resize_modes import LATENT_SCALE
from .settings import Settings


def with_settings_defaults(request: Img2ImgRequest, settings: Settings) -> Img2ImgRequest:
    """Fill what A1111 takes from settings when the request leaves it unset (`initial_noise_multiplier`), and
    give several init images a batch of their own size (A1111 sets batch_size to their count)."""
    changes: dict[str, object] = {}
    if request.initial_noise_multiplier is None:
        changes["initial_noise_multiplier"] = float(settings.get("initial_noise_multiplier"))
    if len(request.init_images) > 1:
        changes["batch_size"] = len(request.init_images)
    return dataclasses.replace(request, **changes) if changes else request


def outpainted(request: Img2ImgRequest, background: str) -> Img2ImgRequest:
    """The request as the inpaint job of its `outpaint` (grown canvas, mask of the new area), else unchanged."""
    if request.outpaint is None:
        return request
    plan = plan_outpaint(request.init_images[0], request.outpaint, background=background)
    return dataclasses.replace(plan.apply_to(request), outpaint=None)


def init_spec(prepared: PreparedImg2Img, request: Img2ImgRequest, settings: Settings) -> InitSpec:
    """The init side of the backend job: images, start step (`img2img_fix_steps`), latent mask, conditioning."""
    latent_mask = None
    if prepared.latent_mask is not None:
        size = (request.width // LATENT_SCALE, request.height // LATENT_SCALE)
        latent_mask = latent_mask_for(prepared.latent_mask, size, round_values=request.mask_round)
    multiplier = request.initial_noise_multiplier
    return InitSpec(
        images=prepared.images,
        steps=img2img_steps(request.steps, request.denoising_strength, bool(settings.get("img2img_fix_steps"))),
        latent_size=prepared.latent_size, latent_mask=latent_mask,
        masked_content=1 if prepared.masked_content is None else int(prepared.masked_content),
        cond_mask=prepared.mask, mask_weight=float(settings.get("inpainting_mask_weight")),
        noise_multiplier=1.0 if multiplier is None else float(multiplier))
