"""What a script is: a title, the tabs it shows in, typed arguments in A1111's positional order, and a run."""
from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from PIL import Image

from ..errors import InvalidRequest
from ..job_grid import grid_folder, save_grid
from ..job_queue import JobQueue
from ..model_catalog import ModelCatalog
from ..model_manager import ModelManager
from ..output_writer import OutputWriter
from ..params import GenerationRequest, Img2ImgRequest
from ..paths import Paths
from ..progress import ProgressTracker
from ..results import GenerationResult
from ..settings import Settings, SettingsStore

TABS = ("txt2img", "img2img")


@dataclass(frozen=True)
class ScriptArg:
    """One control of a script: ``name`` (the key `run` reads), its UI label and kind, default and bounds."""

    name: str
    label: str
    kind: str  # "checkbox", "textbox", "dropdown", "slider", "radio", "checkboxgroup"
    default: Any
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    ui: bool = True  # False: an API-only position (A1111 UI parts we do not have, e.g. values dropdowns)

    def coerce(self, value: Any) -> Any:
        """``value`` as this argument's type (None gives the default); raise InvalidRequest when it cannot be."""
        if value is None:
            return self.default
        try:
            if self.kind == "checkbox":
                return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
            if self.kind == "slider":
                return type(self.default)(value)
            if self.kind == "checkboxgroup":
                return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
            return value if isinstance(value, (list, tuple)) and not self.ui else str(value)
        except (TypeError, ValueError):
            raise InvalidRequest(f"{self.label}: cannot use {value!r}") from None


class ScriptRun(Protocol):
    def __call__(self, services: ScriptServices, request: GenerationRequest,
                 args: Mapping[str, Any]) -> GenerationResult: ...


@dataclass(frozen=True)
class Script:
    """A built-in script. `run` gets the services, the tab's request and ``{arg.name: value}``."""

    title: str
    tabs: tuple[str, ...]
    args: tuple[ScriptArg, ...]
    run: ScriptRun
    from_api: Callable[[dict[str, Any], str], dict[str, Any]] | None = None
    """Turns API values into UI values (e.g. A1111's axis index into its label); gets the tab too."""

    def defaults(self) -> dict[str, Any]:
        """Every argument with its default value."""
        return {arg.name: arg.default for arg in self.args}

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by ``values`` (by name), each coerced to its type."""
        return {arg.name: arg.coerce(values.get(arg.name, arg.default)) for arg in self.args}


@dataclass(frozen=True)
class ScriptServices:
    """What scripts may use: generation, the queue, progress, models and settings (a narrow view of AppContext)."""

    txt2img: Callable[[GenerationRequest], GenerationResult]
    img2img: Callable[[GenerationRequest], GenerationResult]
    jobs: JobQueue
    progress: ProgressTracker
    models: ModelManager
    catalog: ModelCatalog
    settings: SettingsStore
    paths: Paths
    vae_names: Callable[[], list[str]] = lambda: []

    @classmethod
    def from_context(cls, ctx: Any) -> ScriptServices:
        """Build from an `AppContext` (typed loosely so `context` need not import scripts)."""
        return cls(txt2img=ctx.generation.txt2img, img2img=ctx.generation.img2img, jobs=ctx.jobs,
                   progress=ctx.progress, models=ctx.models, catalog=ctx.catalog, settings=ctx.settings,
                   paths=ctx.paths, vae_names=lambda: [record.name for record in ctx.addons.vaes()])

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """One cell: img2img for an `Img2ImgRequest`, else txt2img (inside the script's job: turns nest)."""
        return (self.img2img if isinstance(request, Img2ImgRequest) else self.txt2img)(request)

    def cancelled(self) -> bool:
        """True when the running job was interrupted."""
        job = self.jobs.running
        return job is not None and job.token.cancelled

    def request_settings(self, request: GenerationRequest) -> Settings:
        """The settings snapshot a request sees (its overrides applied)."""
        return self.settings.current().with_overrides(request.override_settings)

    def save_grid(self, image: Image.Image, request: GenerationRequest, infotext: str,
                  basename: str) -> Path | None:
        """Save a script's grid as ``<basename>-NNNN`` in the tab's grids folder when grids and images are
        saved (``grid_save``; the API's ``save_images``); return its path."""
        settings = self.request_settings(request)
        if not (request.save_images and settings.get("grid_save")):
            return None
        kind = "img2img" if isinstance(request, Img2ImgRequest) else "txt2img"
        folder = grid_folder(self.paths, settings, kind, datetime.date.today())
        return save_grid(OutputWriter(self.paths.outputs_root), image, folder, settings, infotext, basename,
                         seed=request.seed, prompt=request.prompt)


def cell_request(request: GenerationRequest, **changes: Any) -> GenerationRequest:
    """A copy for one cell: no per-job grid (the script makes its own), plus ``changes``."""
    return dataclasses.replace(request, do_not_save_grid=True, **changes)
