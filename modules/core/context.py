"""AppContext: the one object that carries the application's services."""
from __future__ import annotations

from dataclasses import dataclass

from .addon_catalog import AddonCatalog
from .extensions import ExtensionHost
from .generation import GenerationService
from .job_queue import JobQueue
from .merge_service import MergeService
from .model_catalog import ModelCatalog
from .model_manager import ModelManager
from .paths import Paths
from .postprocessing import PostprocessingService
from .progress import ProgressTracker
from .settings import SettingsStore
from .style_store import StyleStore
from .upscalers import UpscalerCatalog


@dataclass(frozen=True)
class AppContext:
    """Built once by ``modules.bootstrap``; handlers close over it instead of reading globals."""

    paths: Paths
    settings: SettingsStore
    catalog: ModelCatalog
    addons: AddonCatalog
    models: ModelManager
    generation: GenerationService
    progress: ProgressTracker
    jobs: JobQueue
    styles: StyleStore
    upscalers: UpscalerCatalog
    extras: PostprocessingService
    extensions: ExtensionHost
    merger: MergeService
