"""Reject bad requests early with a precise message; never silently correct input."""
from __future__ import annotations

from .errors import InvalidRequest
from .params import Txt2ImgRequest

MAX_SIDE = 4096
MAX_STEPS = 150
MAX_BATCH_SIZE = 8
MAX_BATCH_COUNT = 100
LATENT_SCALE = 8  # a resize-from side below one latent pixel would make empty noise


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}, got {value}")


def validate_txt2img(request: Txt2ImgRequest) -> None:
    """Raise InvalidRequest naming the first field that is out of range."""
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
