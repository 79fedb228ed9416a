"""Settings: typed A1111 setting specs, immutable snapshots and an atomic, thread-safe `config.json` store."""
from __future__ import annotations

import copy
import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

from modules.core.atomic_files import move_aside, read_json_object, write_atomic
from modules.core.errors import InvalidRequest, SettingLocked, WebUIError
from modules.core.samplers import SAMPLERS, SCHEDULES
from modules.core.settings_freeze import RECORDED_KEYS, FreezeRules

log = logging.getLogger(__name__)
_MISSING = object()


@dataclass(frozen=True)
class SettingSpec:
    """One setting: key, default, label and section for the UI, type, allowed values and API policy."""

    key: str
    default: object
    label: str
    section: str
    kind: type
    choices: tuple | None = None
    api_settable: bool = True
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    """Slider step in the Settings tab (None: 1 for whole numbers, 0.01 otherwise)."""
    hidden: bool = False
    """Kept in config.json and ``/options`` but not shown in the Settings tab (A1111's hidden section)."""


_SAVE, _PATHS, _DIRS = "Saving images/grids", "Paths for saving", "Saving to a directory"
_SD, _INFO, _SAMPLING, _DEFAULTS = "Stable Diffusion", "Infotext", "Sampler parameters", "Generation defaults"
_PROMPT_EDITING = "Prompt editing"
_UPSCALING = "Upscaling"
_PREVIEWS = "Live previews"
_UI = "User interface"

SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("samples_save", True, "Always save all generated images", _SAVE, bool),
    SettingSpec("samples_format", "png", "File format for images", _SAVE, str),
    SettingSpec("samples_filename_pattern", "", "Images filename pattern", _SAVE, str, api_settable=False),
    SettingSpec("save_images_add_number", True, "Add number to filename when saving", _SAVE, bool),
    SettingSpec("grid_save", True, "Always save all generated image grids", _SAVE, bool),
    SettingSpec("grid_format", "png", "File format for grids", _SAVE, str, choices=("png", "jpg", "jpeg", "webp")),
    SettingSpec("grid_extended_filename", False, "Add extended info (seed, prompt) to filename when saving grid",
                _SAVE, bool),
    SettingSpec("grid_only_if_multiple", True, "Do not save grids consisting of one picture", _SAVE, bool),
    SettingSpec("n_rows", -1, "Grid row count; use -1 for autodetect and 0 for it to be same as batch size", _SAVE,
                int, minimum=-1, maximum=16),
    SettingSpec("enable_pnginfo", True, "Save text information about generation parameters as chunks to png files",
                _SAVE, bool),
    SettingSpec("outdir_samples", "", "Output directory for images; if empty, defaults to three directories below",
                _PATHS, str, api_settable=False),
    SettingSpec("outdir_txt2img_samples", "outputs/txt2img-images", "Output directory for txt2img images", _PATHS,
                str, api_settable=False),
    SettingSpec("outdir_img2img_samples", "outputs/img2img-images", "Output directory for img2img images", _PATHS,
                str, api_settable=False),
    SettingSpec("outdir_extras_samples", "outputs/extras-images", "Output directory for images from extras tab",
                _PATHS, str, api_settable=False),
    SettingSpec("outdir_txt2img_grids", "outputs/txt2img-grids", "Output directory for txt2img grids", _PATHS, str,
                api_settable=False),
    SettingSpec("outdir_img2img_grids", "outputs/img2img-grids", "Output directory for img2img grids", _PATHS, str,
                api_settable=False),
    SettingSpec("outdir_grids", "", "Output directory for grids; if empty, defaults to two directories below",
                _PATHS, str, api_settable=False),
    SettingSpec("save_to_dirs", True, "Save images to a subdirectory", _DIRS, bool),
    SettingSpec("grid_save_to_dirs", True, "Save grids to a subdirectory", _DIRS, bool),
    SettingSpec("directories_filename_pattern", "[date]", "Directory name pattern", _DIRS, str, api_settable=False),
    SettingSpec("sd_model_checkpoint", None, "Stable Diffusion checkpoint", _SD, str),
    SettingSpec("sd_checkpoint_hash", "", "SHA256 hash of the current checkpoint", _SD, str, hidden=True),
    SettingSpec("sd_checkpoints_limit", 1, "Maximum number of checkpoints loaded at the same time", _SD, int,
                minimum=1, maximum=10),
    SettingSpec("sd_vae", "Automatic", "SD VAE (Automatic, None or a file name)", _SD, str),
    SettingSpec("sd_vae_overrides_per_model_preferences", True,
                "Selected VAE overrides per-model preferences", _SD, bool),
    SettingSpec("sd_lora", "None", "Add LoRA to every prompt", _SD, str),
    SettingSpec("extra_networks_default_multiplier", 1.0, "Default multiplier for extra networks", _SD, float,
                minimum=0.0, maximum=2.0),
    SettingSpec("lora_in_memory_limit", 4, "Number of LoRA networks to keep loaded in memory", _SD, int,
                minimum=0, maximum=32),
    SettingSpec("CLIP_stop_at_last_layers", 1, "Clip skip", _SD, int, minimum=1, maximum=12),
    SettingSpec("emphasis", "Original", "Emphasis mode", _SD, str, choices=("Original", "No norm", "Ignore", "None")),
    SettingSpec("sdxl_clip_l_skip", False, "Clip skip SDXL: also apply it to the first text encoder (CLIP-L)", _SD,
                bool),
    SettingSpec("pad_cond_uncond", False, "Pad prompt/negative prompt to the same length (batched together)", _SD,
                bool),
    SettingSpec("batch_cond_uncond", True, "Batch cond/uncond together (faster, more memory)", _SD, bool),
    SettingSpec("randn_source", "CPU", "Random number generator source", _SD, str, choices=("GPU", "CPU", "NV")),
    SettingSpec("add_model_hash_to_info", True, "Add model hash to infotext", _INFO, bool),
    SettingSpec("add_model_name_to_info", True, "Add model name to infotext", _INFO, bool),
    SettingSpec("add_vae_hash_to_info", True, "Add VAE hash to infotext", _INFO, bool),
    SettingSpec("add_vae_name_to_info", True, "Add VAE name to infotext", _INFO, bool),
    SettingSpec("lora_add_hashes_to_infotext", True, "Add LoRA hashes to infotext", _INFO, bool),
    SettingSpec("textual_inversion_add_hashes_to_infotext", True, "Add textual inversion hashes to infotext",
                _INFO, bool),
    SettingSpec("add_version_to_infotext", True, "Add program version to infotext", _INFO, bool),
    SettingSpec("infotext_styles", "Apply if any", "Infer styles from prompts of pasted infotext", _INFO, str,
                choices=("Ignore", "Apply", "Discard", "Apply if any")),
    SettingSpec("disable_weights_auto_swap", True, "When reading generation parameters from text into UI (from PNG "
                "info or pasted text), do not change the selected model/checkpoint.", _INFO, bool),
    SettingSpec("enable_prompt_comments", True, "Enable comments (# to the end of the line) in prompts", _SD, bool),
    SettingSpec("use_old_scheduling", False, "Use old prompt editing timelines", _SD, bool),
    SettingSpec("eta_ddim", 0.0, "Eta for DDIM", _SAMPLING, float, minimum=0.0, maximum=1.0),
    SettingSpec("eta_ancestral", 1.0, "Eta for k-diffusion samplers", _SAMPLING, float, minimum=0.0, maximum=1.0),
    SettingSpec("s_churn", 0.0, "sigma churn", _SAMPLING, float, minimum=0.0, maximum=100.0),
    SettingSpec("s_tmin", 0.0, "sigma tmin", _SAMPLING, float, minimum=0.0, maximum=10.0),
    SettingSpec("s_tmax", 0.0, "sigma tmax (0 = inf)", _SAMPLING, float, minimum=0.0, maximum=999.0),
    SettingSpec("s_noise", 1.0, "sigma noise", _SAMPLING, float, minimum=0.0, maximum=1.1),
    SettingSpec("eta_noise_seed_delta", 0, "Eta noise seed delta (ENSD)", _SAMPLING, int, minimum=0),
    SettingSpec("sigma_min", 0.0, "sigma min (0 = model default)", _SAMPLING, float, minimum=0.0),
    SettingSpec("sigma_max", 0.0, "sigma max (0 = model default)", _SAMPLING, float, minimum=0.0),
    SettingSpec("rho", 0.0, "rho (0 = schedule default)", _SAMPLING, float, minimum=0.0),
    SettingSpec("always_discard_next_to_last_sigma", False, "Always discard next-to-last sigma", _SAMPLING, bool),
    SettingSpec("sgm_noise_multiplier", False, "SGM noise multiplier", _SAMPLING, bool),
    SettingSpec("beta_dist_alpha", 0.6, "Beta scheduler - alpha", _SAMPLING, float, minimum=0.01, maximum=1.0),
    SettingSpec("beta_dist_beta", 0.6, "Beta scheduler - beta", _SAMPLING, float, minimum=0.01, maximum=1.0),
    SettingSpec("uni_pc_order", 3, "UniPC order", _SAMPLING, int, minimum=1, maximum=50),
    SettingSpec("uni_pc_lower_order_final", True, "UniPC lower order final", _SAMPLING, bool),
    SettingSpec("default_sampler", "DPM++ 2M", "Default sampling method", _DEFAULTS, str,
                choices=tuple(s.name for s in SAMPLERS)),
    SettingSpec("default_scheduler", "Automatic", "Default schedule type", _DEFAULTS, str,
                choices=tuple(s.label for s in SCHEDULES)),
    SettingSpec("default_steps", 20, "Default sampling steps", _DEFAULTS, int, minimum=1, maximum=150),
    SettingSpec("include_styles_into_token_counters", True, "Count tokens of enabled styles", _PROMPT_EDITING,
                bool),
    SettingSpec("keyedit_precision_attention", 0.1, "Precision for (attention:1.1) when editing the prompt with "
                "Ctrl+up/down", _PROMPT_EDITING, float, minimum=0.01, maximum=0.2),
    SettingSpec("keyedit_precision_extra", 0.05, "Precision for <extra networks:0.9> when editing the prompt with "
                "Ctrl+up/down", _PROMPT_EDITING, float, minimum=0.01, maximum=0.2),
    SettingSpec("keyedit_delimiters", ".,\\/!?%^*;:{}=`~() ", "Word delimiters when editing the prompt with "
                "Ctrl+up/down", _PROMPT_EDITING, str),
    SettingSpec("keyedit_move", True, "Alt+left/right moves prompt elements", _PROMPT_EDITING, bool),
    SettingSpec("ESRGAN_tile", 192, "Tile size for upscaler models (0 = no tiling)", _UPSCALING, int,
                minimum=0, maximum=2048),
    SettingSpec("ESRGAN_tile_overlap", 8, "Tile overlap for upscaler models, in pixels", _UPSCALING, int,
                minimum=0, maximum=256),
    SettingSpec("upscaler_for_img2img", None, "Upscaler for img2img", _UPSCALING, str),
    SettingSpec("img2img_fix_steps", False, "With img2img, do exactly the amount of steps the slider specifies",
                "img2img", bool),
    SettingSpec("initial_noise_multiplier", 1.0, "Noise multiplier for img2img", "img2img", float,
                minimum=0.0, maximum=1.5),
    SettingSpec("inpainting_mask_weight", 1.0, "Inpainting conditioning mask strength", "img2img", float,
                minimum=0.0, maximum=1.0),
    SettingSpec("return_grid", True, "Show grid in gallery", "Gallery", bool),
    SettingSpec("live_previews_enable", True, "Show live previews of the created image", _PREVIEWS, bool),
    SettingSpec("show_progress_every_n_steps", 10, "Live preview display period, in sampling steps (0: none)",
                _PREVIEWS, int, minimum=-1, maximum=32),
    SettingSpec("quicksettings_list", ["sd_model_checkpoint"], "Quicksettings list (setting entries that appear at "
                "the top of the page rather than in the Settings tab; requires a restart)", _UI, list),
    SettingSpec("disabled_extensions", [], "Disabled extensions (takes effect after a restart)", _UI, list,
                hidden=True),
    SettingSpec("enabled_extensions", [], "Extensions that are off by default, switched on (after a restart)", _UI,
                list, hidden=True),
    SettingSpec("img2img_background_color", "#ffffff", "With img2img, fill transparent parts of the input image "
                "with this color", "img2img", str),
    SettingSpec("max_job_megapixel_steps", 200_000, "Largest job accepted, in megapixel-steps (width x height in "
                "megapixels x steps x batch size x batch count, hires pass included; 0: no limit). Bigger jobs are "
                "refused before any work starts", _SD, int, minimum=0, maximum=100_000_000, api_settable=False),
)


def validate_value(spec: SettingSpec, value: object) -> object:
    """Return `value` checked against the spec (int accepted for float settings), or raise InvalidRequest.

    >>> validate_value(SettingSpec("eta", 0.0, "Eta", "S", float), 1)
    1.0
    """
    if value is None and spec.default is None:
        return None
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, spec.kind) or (isinstance(value, bool) and spec.kind is not bool):
        raise InvalidRequest(f"{spec.key}: expected {spec.kind.__name__}, got {value!r}")
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        raise InvalidRequest(f"{spec.key}: expected a list of strings, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidRequest(f"{spec.key}: value must be finite, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise InvalidRequest(f"{spec.key}: {value!r} is not one of {list(spec.choices)}")
    if spec.minimum is not None and value < spec.minimum:  # type: ignore[operator]
        raise InvalidRequest(f"{spec.key}: {value!r} is below the minimum {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:  # type: ignore[operator]
        raise InvalidRequest(f"{spec.key}: {value!r} is above the maximum {spec.maximum}")
    return value


@dataclass(frozen=True, eq=False)
class Settings:
    """An immutable snapshot of every setting: known keys typed, unknown keys from config.json kept."""

    values: Mapping[str, object]
    specs: Mapping[str, SettingSpec]

    def get(self, key: str, default: object = _MISSING) -> object:
        """Return a setting's value; raise KeyError for an unknown key unless a default is given."""
        if key not in self.values:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return copy.deepcopy(self.values[key])

    def as_dict(self) -> dict:
        """Return every key with its value (a copy, as written to config.json)."""
        return copy.deepcopy(dict(self.values))

    def with_overrides(self, overrides: Mapping[str, object] | None) -> Settings:
        """Return a copy with per-request overrides applied (validated like API changes; never persisted)."""
        changes = checked_changes(self, overrides or {}, from_api=True)
        return self._replaced(changes) if changes else self

    def _replaced(self, changes: Mapping[str, object]) -> Settings:
        return Settings(MappingProxyType({**self.values, **changes}), self.specs)


def api_settable(key: str, spec: SettingSpec | None) -> bool:
    """Whether the API may change `key`: not a path or pattern setting, and never an ``api_*`` key."""
    return not key.startswith("api_") and (spec is None or spec.api_settable)


def checked_changes(current: Settings, changes: Mapping[str, object], *, from_api: bool) -> dict[str, object]:
    """Return the validated changes that differ from `current`; raise InvalidRequest naming the key."""
    result: dict[str, object] = {}
    for key, value in changes.items():
        spec = current.specs.get(key)
        same = key in current.values and current.values[key] == value
        if from_api and not same and not api_settable(key, spec):
            raise SettingLocked(f"{key} cannot be changed through the API")
        if spec is not None:
            value = validate_value(spec, value)
        else:
            _check_json(key, value)
        if key not in current.values or current.values[key] != value or type(current.values[key]) is not type(value):
            result[key] = value
    return result


def _check_json(key: str, value: object) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"{key}: value is not storable as JSON ({exc})") from exc


def _migrate(data: dict) -> None:
    """Apply A1111's key migrations in place (old keys are kept, as A1111 does)."""
    if data.get("quicksettings") is not None and data.get("quicksettings_list") is None:
        data["quicksettings_list"] = [i.strip() for i in str(data["quicksettings"]).split(",") if i.strip()]
    if isinstance(data.get("ui_reorder"), str) and data["ui_reorder"] and "ui_reorder_list" not in data:
        data["ui_reorder_list"] = [i.strip() for i in data["ui_reorder"].split(",")]
    if data.get("sd_vae_as_default") is not None and data.get("sd_vae_overrides_per_model_preferences") is None:
        data["sd_vae_overrides_per_model_preferences"] = not data["sd_vae_as_default"]


class SettingsStore:
    """Owns config.json: loads it, hands out snapshots, validates and persists updates, notifies listeners;
    `frozen` (the freeze flags) makes some keys read-only for every caller."""

    def __init__(self, path: Path, specs: Sequence[SettingSpec] = SETTING_SPECS, *,
                 frozen: FreezeRules = FreezeRules()):
        self._path = Path(path)
        self._specs = MappingProxyType({s.key: s for s in specs})
        if len(self._specs) != len(specs):
            raise ValueError("duplicate setting keys")
        self._frozen = frozen
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Settings], None]] = []
        self._current = self._load()

    def current(self) -> Settings:
        """Return the current immutable snapshot."""
        with self._lock:
            return self._current

    def frozen_reason(self, key: str) -> str | None:
        """Why `key` is read-only (a freeze flag), or None when it may be changed."""
        spec = self._specs.get(key)
        return self._frozen.reason(key, spec.section if spec else None)

    def update(self, changes: Mapping[str, object], *, from_api: bool = False) -> Settings:
        """Validate and apply changes, persist config.json atomically, notify listeners; return the new snapshot."""
        with self._lock:
            changed = checked_changes(self._current, changes, from_api=from_api)
            if not changed:
                return self._current
            for key in changed.keys() - RECORDED_KEYS:
                reason = self.frozen_reason(key)
                if reason:
                    raise SettingLocked(f"{key}: not possible to change it because {reason}")
            new = self._current._replaced(changed)
            self._save(new)
            self._current = new
        self._notify(new)
        return new

    def reload(self) -> Settings:
        """Read config.json again (after an edit by hand), notify listeners and return the new snapshot."""
        with self._lock:
            self._current = self._load()
            new = self._current
        self._notify(new)
        return new

    def add_listener(self, fn: Callable[[Settings], None]) -> None:
        """Call `fn(new_settings)` after every successful update."""
        with self._lock:
            self._listeners.append(fn)

    def _notify(self, new: Settings) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(new)
            except Exception:  # a faulty listener must not undo a saved change
                log.exception("Settings listener %r failed", listener)

    def _load(self) -> Settings:
        data = read_json_object(self._path)
        if data is None:
            move_aside(self._path)
            data = {}
        _migrate(data)
        values = {key: spec.default for key, spec in self._specs.items()}
        for key, value in data.items():
            spec = self._specs.get(key)
            try:
                values[key] = validate_value(spec, value) if spec is not None else value
            except InvalidRequest as exc:
                log.warning("Bad setting value in %s, using the default: %s", self._path, exc)
        return Settings(MappingProxyType(values), self._specs)

    def _save(self, settings: Settings) -> None:
        text = json.dumps(settings.as_dict(), indent=4, ensure_ascii=False)
        try:
            if read_json_object(self._path):  # back up the previous file only if it was good
                write_atomic(self._path.with_name(self._path.name + ".bak"), self._path.read_bytes())
            write_atomic(self._path, text.encode("utf-8"))
        except OSError as exc:
            raise WebUIError(f"Could not save settings to {self._path}: {exc}") from exc
