"""Reject bad requests early with a precise message; never silently correct input."""
from __future__ import annotations

from .errors import InvalidRequest
from .params import GenerationRequest, Img2ImgRequest, Txt2ImgRequest

MAX_SIDE = 4096
MAX_INIT_IMAGE_SIDE = 16384  # init images are resized to width x height; this only bounds memory
MAX_MASK_BLUR = 256  # the outpainting scripts pass 2x (Poor man's) or 4x (mk2) their 0-64 slider
MAX_STEPS = 150
MAX_BATCH_SIZE = 8
MAX_BATCH_COUNT = 100
LATENT_SCALE = 8  # a resize-from side below one latent pixel would make empty noise


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}, got {value}")


def validate_txt2img(request: Txt2ImgRequest) -> None:
    """Raise InvalidRequest naming the first field that is out of range."""
    _validate_common(request)


def _validate_common(request: GenerationRequest) -> None:
    for name in ("width", "height"):
        value = getattr(request, name)
        _check_range(name, value, 64, MAX_SIDE)
        if value % 8:
            raise InvalidRequest(f"{name} must be a multiple of 8, got {value}")
    _check_range("steps", request.steps, 1, MAX_STEPS)
    _check_range("cfg_scale", request.cfg_scale, 0, 100)
    _check_range("batch_size", request.batch_size, 1, MAX_BATCH_SIZE)
    _check_range("n_iter", request.n_iter, 1, MAX_BATCH_COUNT)
    for name in ("seed", "subseed"):
        value = getattr(request, name)
        if value < -1 or value >= 2**32:
            raise InvalidRequest(f"{name} must be -1 or between 0 and {2**32 - 1}, got {value}")
    _check_range("subseed_strength", request.subseed_strength, 0, 1)
    for name in ("seed_resize_from_w", "seed_resize_from_h"):
        value = getattr(request, name)
        if value not in (-1, 0) and not LATENT_SCALE <= value <= MAX_SIDE:
            raise InvalidRequest(f"{name} must be -1 or 0 (off) or between {LATENT_SCALE} and {MAX_SIDE}, "
                                 f"got {value}")
    if len(request.prompt) > 100_000 or len(request.negative_prompt) > 100_000:
        raise InvalidRequest("prompt is longer than 100000 characters")
    for name in ("prompt", "negative_prompt", "hr_prompt", "hr_negative_prompt"):
        _check_text(name, getattr(request, name, ""))


def _check_text(name: str, text: str) -> None:
    """Text must be storable as UTF-8 (PNG metadata, logs): JSON can carry a lone surrogate that cannot be.

    >>> _check_text("prompt", "a cat " + chr(0xD800))
    Traceback (most recent call last):
    ...
    modules.core.errors.InvalidRequest: prompt contains invalid Unicode (a lone surrogate) at character 6
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequest(f"{name} contains invalid Unicode (a lone surrogate) at character {exc.start}") from None


def job_megapixel_steps(request: GenerationRequest) -> float:
    """The work a job asks for: megapixels x steps x images, plus the hires pass of a txt2img job.

    >>> job_megapixel_steps(Txt2ImgRequest(width=1000, height=1000, steps=20, batch_size=2, n_iter=3))
    120.0
    """
    images = request.batch_size * request.n_iter
    work = request.width * request.height / 1e6 * request.steps * images
    if isinstance(request, Txt2ImgRequest) and request.enable_hr:
        scale = max(request.hr_scale, 1.0)
        width = request.hr_resize_x or request.width * scale
        height = request.hr_resize_y or request.height * scale
        work += width * height / 1e6 * (request.hr_second_pass_steps or request.steps) * images
    return work


def check_work_budget(request: GenerationRequest, limit: float) -> None:
    """Refuse a job larger than `limit` megapixel-steps (0: no limit) before any model work or allocation."""
    work = job_megapixel_steps(request)
    if limit > 0 and work > limit:
        raise InvalidRequest(f"the job is too large: {work:,.0f} megapixel-steps (width x height x steps x images, "
                             f"hires pass included); the limit is {limit:,.0f} (setting max_job_megapixel_steps)")


def validate_img2img(request: Img2ImgRequest) -> None:
    """Raise InvalidRequest naming the first img2img/inpaint field that is missing, out of range or inconsistent."""
    _validate_common(request)
    if not request.init_images:
        raise InvalidRequest("img2img needs an init image (init_images is empty)")
    if len(request.init_images) > 1 and len(request.init_images) > request.batch_size:
        raise InvalidRequest(f"got {len(request.init_images)} init images for batch_size {request.batch_size}: "
                             "send one image, or at most batch_size images")
    for index, image in enumerate(request.init_images):
        _check_image_size(f"init image {index + 1}", image.size)
    _check_range("denoising_strength", request.denoising_strength, 0, 1)
    if request.resize_mode not in (0, 1, 2, 3):
        raise InvalidRequest(f"resize_mode must be 0, 1, 2 or 3, got {request.resize_mode}")
    if request.image_cfg_scale is not None:
        _check_range("image_cfg_scale", request.image_cfg_scale, 0, 100)
    if request.initial_noise_multiplier is not None:
        _check_range("initial_noise_multiplier", request.initial_noise_multiplier, 0, 10)
    _validate_inpaint(request)


def _check_image_size(label: str, size: tuple[int, int]) -> None:
    if not (1 <= min(size) and max(size) <= MAX_INIT_IMAGE_SIDE):
        raise InvalidRequest(f"{label} is {size[0]}x{size[1]}; each side must be between 1 and {MAX_INIT_IMAGE_SIDE}")


def _validate_inpaint(request: Img2ImgRequest) -> None:
    for name in ("mask_blur", "mask_blur_x", "mask_blur_y"):
        value = getattr(request, name)
        if value is not None:
            _check_range(name, value, 0, MAX_MASK_BLUR)
    if request.inpainting_fill not in (0, 1, 2, 3):
        raise InvalidRequest("inpainting_fill must be 0 (fill), 1 (original), 2 (latent noise) or 3 (latent nothing), "
                             f"got {request.inpainting_fill}")
    if request.inpainting_mask_invert not in (0, 1):
        raise InvalidRequest("inpainting_mask_invert must be 0 (inpaint masked) or 1 (inpaint not masked), "
                             f"got {request.inpainting_mask_invert}")
    _check_range("inpaint_full_res_padding", request.inpaint_full_res_padding, 0, MAX_SIDE)
    if request.mask is not None:
        _check_image_size("mask", request.mask.size)
    for image in request.init_images if request.mask is not None and request.inpaint_full_res else ():
        # whole-picture inpainting resizes the mask like the image (as A1111); "only masked" crops both at
        # the mask's coordinates, which only makes sense when they match
        if request.mask.size != image.size:
            raise InvalidRequest(f"mask is {request.mask.width}x{request.mask.height} but the init image is "
                                 f"{image.width}x{image.height}; with inpaint_full_res (Only masked) they must match")
    if request.latent_mask is not None and request.latent_mask.size != (request.width, request.height):
        raise InvalidRequest(f"latent_mask is {request.latent_mask.width}x{request.latent_mask.height}; it must be "
                             f"width x height ({request.width}x{request.height})")
