"""Checks and mappings of generation bodies: unsupported features refused (422), ignored ones reported as
warnings, A1111's per-request sampler fields turned into this request's setting overrides."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest

from .script_routes import script_names

if TYPE_CHECKING:
    from .schemas import GenerationBody

log = logging.getLogger(__name__)
SAME_CHECKPOINT = ("", "None", "Use same checkpoint")
# body field -> the settings it overrides for this request (A1111: the body value wins over the setting)
SAMPLER_FIELDS = {"eta": ("eta_ancestral", "eta_ddim"), "s_churn": ("s_churn",), "s_tmax": ("s_tmax",),
                  "s_tmin": ("s_tmin",), "s_noise": ("s_noise",)}


def check_script(name: str | None, *, img2img: bool) -> None:
    """A ``script_name`` must name a selectable script of that tab (case-insensitive), as in A1111."""
    if name and name.strip().lower() not in script_names(img2img=img2img):
        kind = "img2img" if img2img else "txt2img"
        raise InvalidRequest(f"Script not found: {name!r} (selectable {kind} scripts: "
                             f"{script_names(img2img=img2img) or 'none'})")


def check_model_names(ctx: AppContext, settings: dict[str, Any]) -> None:
    """A VAE named in a request (``POST /options``, ``override_settings``) must be in the catalogue: a name is
    looked up, never joined onto a folder, and an unknown one is a 404 rather than a silent fallback."""
    name = settings.get("sd_vae")
    if name is None or name in ("Automatic", "None"):
        return
    if not isinstance(name, str):
        raise InvalidRequest(f"sd_vae: expected a VAE name, 'Automatic' or 'None', got {name!r}")
    ctx.addons.find_vae(name)  # ModelNotFound (404) for anything else


def check_unsupported(body: GenerationBody) -> None:
    """Refuse fields that ask for a feature this build lacks, rather than silently ignoring them."""
    refiner = getattr(body, "refiner_checkpoint", None)
    if refiner not in (None, *SAME_CHECKPOINT):
        raise InvalidRequest("refiner_checkpoint: a refiner model is not supported yet")
    hires_checkpoint = getattr(body, "hr_checkpoint_name", None)
    if hires_checkpoint not in (None, *SAME_CHECKPOINT):
        raise InvalidRequest("hr_checkpoint_name: a separate hires checkpoint is not supported yet")
    if getattr(body, "firstpass_image", None):
        raise InvalidRequest("firstpass_image: starting hires fix from a given first pass is not supported yet")


def sampler_overrides(body: GenerationBody) -> dict[str, Any]:
    """``eta`` and ``s_*`` fields sent in the body, as setting overrides for this request only."""
    return {key: value for field, keys in SAMPLER_FIELDS.items()
            if (value := getattr(body, field)) is not None for key in keys}


def request_warnings(body: GenerationBody, extensions: frozenset[str] = frozenset()) -> list[str]:
    """What is accepted but has no effect here; each is logged and reported in ``info.warnings``."""
    loaded = {name.lower() for name in extensions}
    notes = [f"alwayson_scripts: {title!r} is not installed; ignored" for title in (body.alwayson_scripts or {})
             if title.lower() not in loaded]
    if body.restore_faces:
        notes.append("restore_faces: no face restorer is installed; ignored")
    if body.tiling:
        notes.append("tiling: not supported yet; ignored")
    if body.s_min_uncond:
        notes.append("s_min_uncond: not supported yet; ignored")
    for note in notes:
        log.warning("API request: %s", note)
    return notes
