"""MergeService: run a Checkpoint Merger request as a queued job and write the result atomically."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from .addon_catalog import AddonCatalog
from .errors import InvalidRequest, JobCancelled
from .hashes import old_model_hash
from .safetensors_header import read_raw_header
from .job_queue import JobQueue
from .merge import MergeRequest, TensorInfo, TensorPlan, TensorStep, output_filename, validate_request
from .merge_metadata import MergeInput, build_metadata, combined_metadata
from .merge_plan import MergeInputs, plan_tensors
from .model_catalog import ModelCatalog, ModelRecord
from .paths import Paths
from .progress import CancelToken, ProgressTracker


@dataclass(frozen=True)
class MergeJob:
    """What the tensor writer needs: the input files by role ("A", "B", "C"), the VAE, the plan and the metadata."""

    sources: dict[str, Path]
    vae: Path | None
    steps: tuple[TensorStep, ...]
    interp_method: str
    multiplier: float
    metadata: dict[str, str]


class TensorFiles(Protocol):
    """Reads tensor headers and streams a merge to a file (implemented in adapters with torch + safetensors)."""

    def describe(self, path: Path) -> dict[str, TensorInfo]:
        """Name -> dtype and shape of every tensor in a checkpoint or VAE file."""

    def write(self, job: MergeJob, dest: Path, on_tensor: Callable[[int], None]) -> None:
        """Write the merged checkpoint to `dest`, calling `on_tensor(done)` after each tensor."""


@dataclass(frozen=True)
class MergeResult:
    """The saved checkpoint, its catalog record and how long the merge took."""

    path: Path
    record: ModelRecord | None
    seconds: float
    tensors: int
    config: Path | None

    @property
    def message(self) -> str:
        """The result line the tab shows."""
        config = f" (config copied to {self.config.name})" if self.config else ""
        return f"Checkpoint saved to {self.path}{config} in {self.seconds:.1f} s"


def output_folder(paths: Paths) -> Path:
    """Where merges go: `--ckpt-dir` when given (last of the checkpoint folders), else models/Stable-diffusion."""
    return paths.ckpt_dirs[-1]


def sidecar_config(source: int, records: dict[str, ModelRecord]) -> Path | None:
    """The `.yaml` to copy: "A, B or C" = the first input that has one, "B"/"C" = that input's, "Don't" = none."""
    roles = {0: ("A", "B", "C"), 1: ("B",), 2: ("C",)}.get(source, ())
    for role in roles:
        record = records.get(role)
        if record is not None and record.path.with_suffix(".yaml").is_file():
            return record.path.with_suffix(".yaml")
    return None


def file_metadata(path: Path) -> dict[str, str]:
    """A checkpoint's raw safetensors `__metadata__` (string values); {} for other formats."""
    if path.suffix.lower() != ".safetensors":
        return {}
    metadata = read_raw_header(path).get("__metadata__")
    return {k: v for k, v in metadata.items() if isinstance(v, str)} if isinstance(metadata, dict) else {}


class MergeService:
    """Merges checkpoints in the shared job queue, reports progress per tensor and refreshes the catalog."""

    def __init__(self, *, catalog: ModelCatalog, addons: AddonCatalog, paths: Paths, progress: ProgressTracker,
                 queue: JobQueue, files: TensorFiles) -> None:
        self._catalog, self._addons, self._paths = catalog, addons, paths
        self._progress, self._queue, self._files = progress, queue, files

    def read_metadata(self, names: list[str]) -> str:
        """The selected checkpoints' metadata merged into one JSON text (empty names skipped)."""
        return combined_metadata([file_metadata(self._catalog.find(n).path) for n in names if n])

    def merge(self, request: MergeRequest, *, source: str = "ui") -> MergeResult:
        """Check the request, wait for the device's turn, merge, save atomically and rescan the checkpoints."""
        validate_request(request)
        with self._queue.turn("merge", source=source) as job:
            self._progress.begin("merge", job_count=1, timestamp="", token=job.token)
            started = time.monotonic()
            records = self._records(request)
            plan = plan_tensors(request, self._inputs(request, records))
            names = [records[r].model_name if r in records else "" for r in ("A", "B", "C")]
            dest = output_folder(self._paths) / output_filename(request, plan, *names)
            if dest.exists() and not request.overwrite:
                raise InvalidRequest(f"{dest.name} already exists in {dest.parent}; choose another name or tick "
                                     "'Overwrite an existing file'")
            self._write(self._job(request, plan, records), dest, overwrite=request.overwrite, token=job.token)
            config = self._copy_config(request, records, dest)
            self._progress.set_text("Checkpoint saved")
            self._catalog.refresh()
            record = next((r for r in self._catalog.checkpoints() if r.path == dest), None)
            record = self._catalog.ensure_hash(record) if record is not None else None  # A1111 shows it hashed
            return MergeResult(dest, record, time.monotonic() - started, len(plan.steps), config)

    def _records(self, request: MergeRequest) -> dict[str, ModelRecord]:
        wanted = {"A": request.primary, "B": request.secondary if request.uses_secondary else "",
                  "C": request.tertiary if request.uses_tertiary else ""}
        return {role: self._catalog.find(name) for role, name in wanted.items() if name}

    def _inputs(self, request: MergeRequest, records: dict[str, ModelRecord]) -> MergeInputs:
        self._progress.set_text("Reading checkpoint headers")
        headers = {role: self._files.describe(record.path) for role, record in records.items()}
        vae = None
        if request.bake_in_vae and request.bake_in_vae != "None":
            vae = self._files.describe(self._addons.find_vae(request.bake_in_vae).path)
        return MergeInputs(a=headers["A"], b=headers.get("B"), c=headers.get("C"), vae=vae)

    def _metadata(self, request: MergeRequest, plan: TensorPlan, records: dict[str, ModelRecord]) -> dict[str, str]:
        if not request.save_metadata:
            return {}
        if request.add_merge_recipe:
            self._progress.set_text("Hashing the input checkpoints")
            records = {role: self._catalog.ensure_hash(record) for role, record in records.items()}
        inputs = {role: MergeInput(name=r.name, sha256=r.sha256 or "", legacy_hash=old_model_hash(r.path),
                                   metadata=file_metadata(r.path)) for role, r in records.items()}
        return build_metadata(request, plan, inputs)

    def _job(self, request: MergeRequest, plan: TensorPlan, records: dict[str, ModelRecord]) -> MergeJob:
        vae = self._addons.find_vae(request.bake_in_vae).path if request.bake_in_vae not in ("", "None") else None
        return MergeJob(sources={role: r.path for role, r in records.items()}, vae=vae, steps=plan.steps,
                        interp_method=request.interp_method, multiplier=request.multiplier,
                        metadata=self._metadata(request, plan, records))

    def _write(self, job: MergeJob, dest: Path, *, overwrite: bool, token: CancelToken) -> None:
        """Stream into a hidden temp file beside `dest`, then rename it over; no partial file survives an error."""
        self._progress.begin_batch(0, len(job.steps))
        self._progress.set_text(f"Merging {len(job.steps)} tensors")

        def on_tensor(done: int) -> None:
            if token.cancelled:
                raise JobCancelled("The merge was interrupted; nothing was saved")
            self._progress.step(done)

        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".merging", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            self._files.write(job, tmp, on_tensor)
            if dest.exists() and not overwrite:
                raise InvalidRequest(f"{dest.name} appeared while merging; nothing was overwritten")
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def _copy_config(self, request: MergeRequest, records: dict[str, ModelRecord], dest: Path) -> Path | None:
        """Copy the chosen input's `.yaml` beside the output; an overwritten output loses a stale one."""
        config = sidecar_config(request.config_source, records)
        target = dest.with_suffix(".yaml")
        if config is None:
            if request.overwrite:
                target.unlink(missing_ok=True)
            return None
        shutil.copyfile(config, target)
        return target
