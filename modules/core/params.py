"""Requests and resolved jobs exchanged between interfaces, the core and the backend."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

from PIL import Image

from .denoising import Img2ImgSteps
from .sampler_settings import SamplerSettings
from .samplers import SamplerSpec, ScheduleSpec
from .seeds import NoiseSpec


@dataclass(frozen=True)
class GenerationRequest:
    """The fields txt2img and img2img share (A1111 names; UI defaults, the API schema supplies its own)."""

    prompt: str = ""
    negative_prompt: str = ""
    styles: tuple[str, ...] = ()
    steps: int = 20
    sampler_name: str | None = "DPM++ 2M"
    scheduler: str | None = "Automatic"
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0.0
    seed_resize_from_h: int = -1
    seed_resize_from_w: int = -1
    batch_size: int = 1
    n_iter: int = 1
    save_images: bool = True
    do_not_save_grid: bool = False
    checkpoint: str | None = None
    override_settings: Mapping[str, object] = field(default_factory=dict)
    source: str = "ui"
    extension_args: Mapping[str, object] = field(default_factory=dict)  # extension name -> its control values


@dataclass(frozen=True)
class Txt2ImgRequest(GenerationRequest):
    """What a user asked for in the txt2img tab or through ``POST /sdapi/v1/txt2img``.

    The hires-fix fields carry A1111's API names. `hr_upscaler` None means "Latent" (A1111's
    `latent_upscale_default_mode`); `hr_second_pass_steps` 0 means `steps`; `hr_resize_x/_y` 0 means use
    `hr_scale`; `denoising_strength` is the second pass's; `hr_*` names None or "" mean "use the same".
    """

    enable_hr: bool = False
    hr_scale: float = 2.0
    hr_upscaler: str | None = "Latent"
    hr_second_pass_steps: int = 0
    hr_resize_x: int = 0
    hr_resize_y: int = 0
    denoising_strength: float = 0.7
    hr_checkpoint_name: str | None = None
    hr_sampler_name: str | None = None
    hr_scheduler: str | None = None
    hr_prompt: str = ""
    hr_negative_prompt: str = ""


@dataclass(frozen=True)
class Outpaint:
    """Pixels to add per side, the scripts' "Mask blur" slider, and the mk2-style noise pre-fill switch
    (see `core.outpaint`)."""

    left: int = 0
    right: int = 0
    up: int = 0
    down: int = 0
    mask_blur: int = 4
    noise_fill: bool = False
    color_variation: float = 0.05


@dataclass(frozen=True)
class Img2ImgRequest(GenerationRequest):
    """What a user asked for in the img2img tab or through ``POST /sdapi/v1/img2img``; a mask makes it inpainting.

    img2img fields carry A1111's *API* defaults (`UI_IMG2IMG_DEFAULTS` lists where the UI differs). Images are
    Pillow images: decoding base64 is the interface's job. `mask_blur`, when set, replaces both `mask_blur_x`
    and `mask_blur_y`, as in A1111's API. `inpainting_fill`: 0 fill, 1 original, 2 latent noise, 3 latent
    nothing. `inpaint_full_res` True = "Only masked". `inpainting_mask_invert`: 0 inpaint masked, 1 not masked.
    `initial_noise_multiplier` None = the setting's value. `latent_mask`, when given, replaces the mask for
    the latent blend and the "fill" pre-fill (A1111's outpainting scripts use it). `outpaint`, when given,
    grows the canvas of the (single) init image and inpaints the new area (`core.outpaint.plan_outpaint`).
    """

    init_images: tuple[Image.Image, ...] = ()
    mask: Image.Image | None = None
    resize_mode: int = 0
    denoising_strength: float = 0.75
    image_cfg_scale: float | None = None
    mask_blur: int | None = None
    mask_blur_x: int = 4
    mask_blur_y: int = 4
    mask_round: bool = True
    inpainting_fill: int = 0
    inpaint_full_res: bool = True
    inpaint_full_res_padding: int = 0
    inpainting_mask_invert: int = 0
    initial_noise_multiplier: float | None = None
    latent_mask: Image.Image | None = None
    include_init_images: bool = False
    outpaint: Outpaint | None = None

    @property
    def mask_blur_xy(self) -> tuple[int, int]:
        """The (horizontal, vertical) mask blur actually used: `mask_blur` for both when it is set."""
        if self.mask_blur is not None:
            return self.mask_blur, self.mask_blur
        return self.mask_blur_x, self.mask_blur_y


UI_IMG2IMG_DEFAULTS: Mapping[str, object] = MappingProxyType({
    "mask_blur": 4, "inpainting_fill": 1, "inpaint_full_res": False, "inpaint_full_res_padding": 32,
    "image_cfg_scale": 1.5,
})
"""img2img fields whose UI default differs from the API default of `Img2ImgRequest` (spec: defaults UI vs API)."""


@dataclass(frozen=True)
class PromptOptions:
    """Settings that shape prompt conditioning (A1111 names: CLIP_stop_at_last_layers, emphasis,
    use_old_scheduling, sdxl_clip_l_skip, pad_cond_uncond, batch_cond_uncond)."""

    clip_skip: int = 1
    emphasis: str = "Original"
    use_old_scheduling: bool = False
    sdxl_clip_l_skip: bool = False
    pad_cond_uncond: bool = False
    batch_cond_uncond: bool = True


@dataclass(frozen=True)
class InitSpec:
    """The img2img/inpaint side of a job: init pictures, masks and where sampling starts (core types only).

    `images`: RGB init images, one per batch image (W x H, or their own size with `latent_size`: encode, then
    resize the latent bilinearly to `latent_size` = (W/8, H/8)). `latent_mask`: L image at latent size,
    255 = regenerate (None: plain img2img). `masked_content`: `inpainting_fill` (2 latent noise and 3 latent
    nothing replace the masked latent before noising). `cond_mask`: the pixel-size mask for inpainting
    (9-channel) UNets, weighted by `mask_weight` (A1111 ``inpainting_mask_weight``). `noise_multiplier`
    scales the noise added to the init latent (A1111 ``initial_noise_multiplier``).
    """

    images: tuple[Image.Image, ...]
    steps: Img2ImgSteps
    latent_size: tuple[int, int] | None = None
    latent_mask: Image.Image | None = None
    masked_content: int = 1
    cond_mask: Image.Image | None = None
    mask_weight: float = 1.0
    noise_multiplier: float = 1.0


@dataclass(frozen=True)
class HiresSpec:
    """The hires-fix second pass of a txt2img job, as the backend runs it.

    The first-pass latents are resized to `upscale_to` (W, H) in pixels, by `latent_mode` (torch
    ``interpolate`` mode, antialias) or, when that is None, by decoding and calling `upscale_image(image, w,
    h)`; then `truncate` (x, y) latent pixels are cropped (centred) and an img2img pass runs `steps` with
    fresh noise from the job's seeds, its own sampler and prompts.
    """

    upscale_to: tuple[int, int]
    steps: Img2ImgSteps
    sampler: SamplerSpec
    schedule: ScheduleSpec
    prompt: str
    negative_prompt: str
    latent_mode: tuple[str, bool] | None = ("bilinear", False)
    upscale_image: Callable[[Image.Image, int, int], Image.Image] | None = None
    truncate: tuple[int, int] = (0, 0)
    eta: float | None = None
    sampler_settings: SamplerSettings = SamplerSettings()

    @property
    def size(self) -> tuple[int, int]:
        """The final (width, height) in pixels."""
        return self.upscale_to[0] - 8 * self.truncate[0], self.upscale_to[1] - 8 * self.truncate[1]


@dataclass(frozen=True)
class GenerationJob:
    """One batch for the backend: everything resolved, nothing left to look up."""

    prompt: str
    negative_prompt: str
    steps: int
    sampler: SamplerSpec
    schedule: ScheduleSpec
    cfg_scale: float
    width: int
    height: int
    seeds: tuple[int, ...]
    eta: float | None = None  # the sampler's effective eta (eta_ancestral or eta_ddim); None if it takes none
    rng: str = "CPU"
    subseeds: tuple[int, ...] = ()
    subseed_strength: float = 0.0
    seed_resize_from: tuple[int, int] | None = None
    sampler_settings: SamplerSettings = SamplerSettings()
    prompt_options: PromptOptions = PromptOptions()
    init: InitSpec | None = None
    hires: HiresSpec | None = None

    @property
    def batch_size(self) -> int:
        """How many images this batch makes."""
        return len(self.seeds)

    def noise_specs(self) -> tuple[NoiseSpec, ...]:
        """How each image's initial noise is made (seed, variation seed and strength, resize-from size)."""
        subseeds = self.subseeds or (-1,) * len(self.seeds)
        return tuple(NoiseSpec(seed=seed, subseed=subseed, subseed_strength=self.subseed_strength,
                               resize_from=self.seed_resize_from) for seed, subseed in zip(self.seeds, subseeds))
