"""Pydantic bodies of ``/sdapi/v1`` with A1111's field names and defaults, converted explicitly to core types."""
from __future__ import annotations

import base64
import io
from typing import Any

from PIL.PngImagePlugin import PngInfo
from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from modules.core.params import Txt2ImgRequest
from modules.core.results import GenerationResult

from .body_checks import check_script, check_unsupported, request_warnings, sampler_overrides
from .infotext_body import apply_infotext
from .response_info import info_payload


class GenerationBody(BaseModel):
    """The fields ``txt2img`` and ``img2img`` share: every field optional, ``null`` means the default, unknown
    keys ignored (and never echoed)."""

    model_config = ConfigDict(extra="ignore")

    prompt: str | None = ""
    negative_prompt: str | None = ""
    styles: list[str] | None = None
    seed: int | None = -1
    subseed: int | None = -1
    subseed_strength: float | None = 0
    seed_resize_from_h: int | None = -1
    seed_resize_from_w: int | None = -1
    sampler_name: str | None = None
    sampler_index: str | None = "Euler"
    scheduler: str | None = None
    batch_size: int | None = 1
    n_iter: int | None = 1
    steps: int | None = 50
    cfg_scale: float | None = 7.0
    width: int | None = 512
    height: int | None = 512
    restore_faces: bool | None = None
    tiling: bool | None = None
    do_not_save_samples: bool | None = False
    do_not_save_grid: bool | None = False
    eta: float | None = None
    s_min_uncond: float | None = None
    s_churn: float | None = None
    s_tmax: float | None = None
    s_tmin: float | None = None
    s_noise: float | None = None
    override_settings: dict[str, Any] | None = None
    override_settings_restore_afterwards: bool | None = True
    refiner_checkpoint: str | None = None
    refiner_switch_at: float | None = None
    disable_extra_networks: bool | None = False
    comments: dict[str, Any] | None = None
    script_name: str | None = None
    script_args: list[Any] | None = []
    alwayson_scripts: dict[str, Any] | None = {}
    send_images: bool | None = True
    save_images: bool | None = False
    force_task_id: str | None = None
    infotext: str | None = None

    @model_validator(mode="after")
    def _fill_from_infotext(self) -> GenerationBody:
        """A1111's ``infotext`` field: its values fill every field the client did not send."""
        if self.infotext:
            apply_infotext(self)
        return self

    def values(self) -> dict[str, Any]:
        """Every field with nulls replaced by the field's default."""
        fields = type(self).model_fields
        return {name: (getattr(self, name) if getattr(self, name) is not None else fields[name].default)
                for name in fields}

    def echo(self) -> dict[str, Any]:
        """The ``parameters`` echo: known fields only (never an unknown key a client forwarded)."""
        return self.model_dump()

    _extensions: frozenset[str] = PrivateAttr(default=frozenset())

    def for_extensions(self, names: frozenset[str]) -> GenerationBody:
        """Tell the body which extensions are loaded: their ``alwayson_scripts`` entries (title matched without
        regard to case) become the request's ``extension_args``; the others are reported as ignored."""
        self._extensions = frozenset(names)
        return self

    def extension_args(self) -> dict[str, Any]:
        """``{extension name: args}`` from ``alwayson_scripts`` for the loaded extensions."""
        by_lower = {name.lower(): name for name in self._extensions}
        return {by_lower[title.lower()]: (entry or {}).get("args") if isinstance(entry, dict) else entry
                for title, entry in (self.alwayson_scripts or {}).items() if title.lower() in by_lower}

    def warnings(self) -> list[str]:
        """What this build ignores from the request (unknown always-on scripts, face restoration, tiling)."""
        return request_warnings(self, self._extensions)

    def common_fields(self) -> dict[str, Any]:
        """The `GenerationRequest` fields of this body, as keyword arguments (unsupported features refused)."""
        check_unsupported(self)
        v = self.values()
        overrides = {**dict(v["override_settings"] or {}), **sampler_overrides(self)}
        checkpoint = overrides.pop("sd_model_checkpoint", None)
        overrides.pop("sd_checkpoint_hash", None)
        return dict(
            prompt=v["prompt"], negative_prompt=v["negative_prompt"], styles=tuple(v["styles"] or ()),
            steps=v["steps"],
            sampler_name=self.sampler_name or v["sampler_index"], scheduler=self.scheduler,
            cfg_scale=v["cfg_scale"], width=v["width"], height=v["height"], seed=v["seed"],
            subseed=v["subseed"], subseed_strength=v["subseed_strength"],
            seed_resize_from_h=v["seed_resize_from_h"], seed_resize_from_w=v["seed_resize_from_w"],
            batch_size=v["batch_size"], n_iter=v["n_iter"],
            save_images=bool(v["save_images"]) and not v["do_not_save_samples"],
            do_not_save_grid=bool(v["do_not_save_grid"]),
            checkpoint=checkpoint, override_settings=overrides, source="api",
            extension_args=self.extension_args(),
        )


class Txt2ImgBody(GenerationBody):
    """``POST /sdapi/v1/txt2img``, with the hires-fix fields (A1111 names and API defaults)."""

    enable_hr: bool | None = False
    denoising_strength: float | None = None
    firstphase_width: int | None = 0
    firstphase_height: int | None = 0
    hr_scale: float | None = 2.0
    hr_upscaler: str | None = None
    hr_second_pass_steps: int | None = 0
    hr_resize_x: int | None = 0
    hr_resize_y: int | None = 0
    hr_checkpoint_name: str | None = None
    hr_sampler_name: str | None = None
    hr_scheduler: str | None = None
    hr_prompt: str | None = ""
    hr_negative_prompt: str | None = ""
    firstpass_image: str | None = None

    def to_core(self) -> Txt2ImgRequest:
        """The core request; nulls become defaults (hires denoising: the core's 0.7 when not sent)."""
        check_script(self.script_name, img2img=False)
        v = self.values()
        hires = {name: v[name] for name in ("enable_hr", "hr_scale", "hr_second_pass_steps", "hr_resize_x",
                                            "hr_resize_y", "hr_prompt", "hr_negative_prompt")}
        if self.denoising_strength is not None:
            hires["denoising_strength"] = self.denoising_strength
        common = self.common_fields()
        if v["enable_hr"] and (v["firstphase_width"] or v["firstphase_height"]):
            # legacy A1111 fields: the first pass runs at firstphase size and hires fix resizes to width x height
            hires.update(hr_resize_x=common["width"], hr_resize_y=common["height"])
            common.update(width=v["firstphase_width"] or common["width"],
                          height=v["firstphase_height"] or common["height"])
        return Txt2ImgRequest(**common, **hires, hr_upscaler=self.hr_upscaler,
                              hr_checkpoint_name=self.hr_checkpoint_name, hr_sampler_name=self.hr_sampler_name,
                              hr_scheduler=self.hr_scheduler)


def encode_png(image) -> str:
    """Raw base64 PNG (no data-URL prefix: webuiapi would decode a prefixed string to garbage)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode_png_with_info(image, infotext: str) -> str:
    """Raw base64 PNG carrying the ``parameters`` chunk."""
    info = PngInfo()
    info.add_text("parameters", infotext)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def generation_response(result: GenerationResult, body: GenerationBody) -> dict:
    """The body of a txt2img/img2img answer: ``images`` (raw base64), ``parameters`` (known fields only),
    ``info`` (a JSON string)."""
    images = [encode_png_with_info(g.image, g.infotext) for g in result.gallery] if body.send_images else []
    return {"images": images, "parameters": body.echo(), "info": info_payload(result, body)}
