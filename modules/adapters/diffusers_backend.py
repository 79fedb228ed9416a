"""The Backend over diffusers pipelines: safe offline loading, A1111 seeds, step callbacks, interrupt."""
from __future__ import annotations

import ctypes
import gc
import sys
import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from diffusers import EulerDiscreteScheduler
from PIL import Image

from modules.core.backend import EmbeddingReport, LoadedCheckpoint, LoraReport, LoraRequest, StepHooks
from modules.core.errors import Busy, GenerationFailed, NoModelLoaded, OutOfMemory, UnsupportedModel
from modules.core.model_catalog import ModelRecord
from modules.core.model_family import ModelFamily
from modules.core.model_probe import probe_family, sidecar_v_prediction
from modules.core.params import GenerationJob
from modules.core.prompt_attention import parse_attention

from .checkpoint_files import loaded_bytes, read_state_dict, shapes_of
from .devices import DevicePolicy, choose_device, choose_dtype, use_xformers
from .embeddings import EmbeddingState, load_embedding, unload_all
from .lora import LoraState, LoraWish, apply_loras
from .model_configs import write_config_dir
from .prompt_embeds import prompt_encoder_for
from .vae_loading import load_vae
from .pipeline_factory import ComponentSource, build_pipeline, load_unet, unet_predicts_v
from .shared_components import ComponentPool
from .job_passes import PassContext, run_job
from .sampling.decode import decode_latents
from .live_preview import approximate_rgb
from .sampling.types import SamplingInterrupted

log = logging.getLogger(__name__)


@dataclass(eq=False)  # compared and hashed by identity (kept in weak sets)
class DiffusersHandle:
    """The loaded pipeline, the scheduler config every sampler is derived from, and swappable parts."""

    pipe: object
    scheduler_config: dict
    own_vae: object = None
    external_vae: tuple[Path, int, object] | None = None
    embeddings: EmbeddingState = field(default_factory=EmbeddingState)
    loras: LoraState = field(default_factory=LoraState)


class DiffusersBackend:
    """Implements ``modules.core.backend.Backend`` with diffusers."""

    def __init__(self, configs_root: Path, policy: DevicePolicy):
        self._configs_root = configs_root
        self.device = choose_device(policy)
        self.dtype = choose_dtype(policy, self.device)
        self._xformers = use_xformers(policy, self.device)
        self._pool = ComponentPool()
        if policy.xformers and not self._xformers:
            log.warning("--xformers ignored: xformers needs CUDA and the xformers package; using PyTorch SDPA")

    def load_checkpoint(self, record: ModelRecord) -> LoadedCheckpoint:
        """Read the file safely, detect its family, size the configs from its shapes, build the pipeline."""
        started = time.perf_counter()
        state = read_state_dict(record.path)
        try:
            family = probe_family(shapes_of(state), name=record.path.name)
            pipe, family, scheduler_config = self._build(record, family, state)
        except UnsupportedModel:
            raise
        except (KeyError, ValueError, RuntimeError, StopIteration) as exc:
            raise UnsupportedModel(f"{record.path.name}: cannot be loaded: {exc}") from exc
        finally:
            del state
        if self._xformers:
            pipe.enable_xformers_memory_efficient_attention()
        pipe.set_progress_bar_config(disable=True)
        _freeze(pipe)
        handle = DiffusersHandle(pipe=pipe, scheduler_config=scheduler_config, own_vae=pipe.vae)
        shared = self._pool.adopt(handle)
        if shared:
            log.info("%s: %s identical to a cached checkpoint's, held once", record.name, ", ".join(shared))
        return LoadedCheckpoint(record=record, family=family, handle=handle,
                                load_seconds=time.perf_counter() - started,
                                device=str(self.device), dtype=str(self.dtype).replace("torch.", ""))

    def _build(self, record: ModelRecord, family: ModelFamily, state):
        shapes = shapes_of(state)
        with tempfile.TemporaryDirectory(prefix="sd-config-") as tmp:
            config_dir = write_config_dir(family, shapes, self._configs_root, Path(tmp))
            source = ComponentSource(state=state, config_dir=config_dir,
                                     tokenizers_root=self._configs_root / "tokenizers", dtype=self.dtype)
            unet = load_unet(source)
            family = self._resolve_v_prediction(record, family, unet)
            scheduler_config = json.loads(
                (self._configs_root / family.value / "scheduler" / "scheduler_config.json").read_text("utf-8"))
            scheduler = EulerDiscreteScheduler.from_config(scheduler_config)  # jobs replace it per sampler
            pipe = build_pipeline(family, source, unet, scheduler)
        return pipe, family, scheduler_config

    @staticmethod
    def _resolve_v_prediction(record: ModelRecord, family: ModelFamily, unet) -> ModelFamily:
        if family is not ModelFamily.SD2:
            return family
        stated = sidecar_v_prediction(record.path)
        is_v = stated if stated is not None else unet_predicts_v(unet)
        return ModelFamily.SD2_V if is_v else ModelFamily.SD2

    def generate(self, loaded: LoadedCheckpoint, job: GenerationJob, hooks: StepHooks) -> list[Image.Image]:
        """Run one batch with our denoising loop; each image's noise comes from its own seeded generator."""
        if loaded.family is ModelFamily.SDXL_REFINER:
            raise UnsupportedModel(f"{loaded.record.name}: generating with {loaded.family.value} checkpoints "
                                   "is not supported yet; choose a base model")
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        pipe = handle.pipe
        rng_device = self.device if job.rng == "GPU" else torch.device("cpu")
        context = PassContext(pipe=pipe, family=loaded.family, scheduler_config=handle.scheduler_config,
                              device=self.device, rng_device=rng_device,
                              embedding_names=tuple(handle.embeddings.loaded),
                              progress=lambda offset: _progress(hooks, loaded.family, offset),
                              should_stop=lambda: hooks.cancel.should_stop)
        try:
            with torch.inference_mode():
                latents = run_job(context, job)
                if not torch.isfinite(latents).all():
                    raise GenerationFailed(f"{loaded.record.name}: the UNet produced NaN values (a tensor with all "
                                           "NaNs): try --no-half or --upcast-sampling, another sampler, or without "
                                           "the LoRAs of this prompt")
                images = decode_latents(pipe.vae, latents)
        except torch.OutOfMemoryError as exc:
            gc.collect()
            _empty_cache()
            raise OutOfMemory(f"Out of memory on {self.device} at {job.width}x{job.height}, "
                              f"batch {job.batch_size}: try a smaller size or batch") from exc
        return _to_pil(images, loaded.record.name)

    def set_vae(self, loaded: LoadedCheckpoint, path: Path | None) -> None:
        """Use the VAE file at ``path`` (kept loaded for reuse), or the checkpoint's own when None (exact)."""
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        if path is None:
            vae = handle.own_vae
        else:
            mtime = path.stat().st_mtime_ns
            if handle.external_vae is None or handle.external_vae[:2] != (path, mtime):
                vae = load_vae(path, loaded.family, self._configs_root, self.dtype).requires_grad_(False)
                handle.external_vae = (path, mtime, vae)
            vae = handle.external_vae[2]
        if handle.pipe.vae is not vae:
            handle.pipe.vae = vae.to(self.device)

    def set_embeddings(self, loaded: LoadedCheckpoint, files: dict[str, Path]) -> EmbeddingReport:
        """Reload the embeddings when the set of files (or one of them) changed; else keep what is loaded."""
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        state = handle.embeddings
        wanted = {name: (path, path.stat().st_mtime_ns) for name, path in files.items()}
        current = {name: entry[:2] for name, entry in state.loaded.items()}
        current.update({name: wanted.get(name) for name in state.skipped})
        if wanted != current:
            started = time.perf_counter()
            unload_all(handle.pipe, state)
            for name, path in sorted(files.items()):
                load_embedding(handle.pipe, name, path, state)
            log.info("Embeddings loaded: %d, skipped: %d (%.2fs)", len(state.loaded), len(state.skipped),
                     time.perf_counter() - started)
        return EmbeddingReport(loaded={n: e[2] for n, e in state.loaded.items()}, skipped=dict(state.skipped))

    def set_loras(self, loaded: LoadedCheckpoint, loras: list[LoraRequest], *, keep: int) -> LoraReport:
        """Make the weights hold exactly ``loras``, merged and exactly restorable (see ``adapters.lora``)."""
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        wishes = [LoraWish(r.name, r.path, r.te_weight, r.unet_weight) for r in loras]
        applied, failed = apply_loras(handle.pipe, handle.loras, wishes, keep=keep)
        notes = tuple(handle.loras.notes[name] for name in applied if name in handle.loras.notes)
        return LoraReport(applied=tuple(applied), failed=failed, notes=notes)

    def count_tokens(self, loaded: LoadedCheckpoint, text: str, *, parse_emphasis: bool = True) -> tuple[int, int]:
        """A1111's count for the UI: the text's tokens after emphasis parsing (embeddings expanded), chunked into
        75-token chunks with comma backtracking, and the chunks' capacity. Only the tokenizer is used."""
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        pipe = handle.pipe
        if pipe is None:
            raise NoModelLoaded(f"{loaded.record.name} was unloaded")
        fragments = parse_attention(text) if parse_emphasis else [(text, 1.0)]
        try:
            encoder = prompt_encoder_for(pipe, loaded.family, embedding_names=list(handle.embeddings.loaded))
            return encoder.count_tokens(fragments)
        except RuntimeError as exc:
            # a job may be changing the embeddings (dict resized) or the Rust tokenizer's padding/truncation
            # mode ("Already borrowed") right now; the counter shows "-" and the next keystroke counts again
            raise Busy("the tokenizer is in use; count again") from exc

    def memory_needed(self, record: ModelRecord) -> int:
        """The model's size at our dtype, from the file header."""
        return loaded_bytes(record.path, torch.empty((), dtype=self.dtype).element_size())

    def memory_available(self) -> int | None:
        """Available system RAM (psutil comes with accelerate); None if it cannot be read."""
        try:
            import psutil
        except ImportError:
            return None
        return int(psutil.virtual_memory().available)

    def park(self, loaded: LoadedCheckpoint) -> None:
        """Inactive cached models wait in RAM (A1111 ``sd_checkpoints_keep_in_cpu``), with their base weights:
        LoRAs and embedding tokens are undone (exactly) so components shared with other checkpoints stay
        pristine; the next job on this model applies its own again (parsed LoRA files stay cached)."""
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        apply_loras(handle.pipe, handle.loras, [], keep=len(handle.loras.files))
        unload_all(handle.pipe, handle.embeddings)
        if self.device.type != "cpu":
            loaded.handle.pipe.to("cpu")
            loaded.handle.own_vae.to("cpu")
            _empty_cache()

    def activate(self, loaded: LoadedCheckpoint) -> None:
        """Move a cached model to the device."""
        if self.device.type != "cpu":
            loaded.handle.pipe.to(self.device)

    def unload(self, loaded: LoadedCheckpoint) -> None:
        """Drop the pipeline and give memory back."""
        handle: DiffusersHandle = loaded.handle  # type: ignore[assignment]
        self._pool.forget(handle)
        handle.pipe = None
        handle.own_vae = handle.external_vae = None
        gc.collect()
        _empty_cache()


def _freeze(pipe) -> None:
    """Inference only: no weight needs gradients. It also keeps matmul paths identical once PEFT adapters
    (which switch requires_grad off) are added, so removing a LoRA restores outputs bit for bit on SDXL."""
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.requires_grad_(False)


def _progress(hooks: StepHooks, family: ModelFamily, offset: int = 0):
    """Report each user step once (a second pass continues after ``offset``), with a live preview every
    ``hooks.preview_every`` steps; stop the sampler (keeping its latest x0 estimate) on interrupt or skip."""
    reported = [0]

    def report(step: int, denoised: torch.Tensor) -> None:
        if step > reported[0]:
            reported[0] = step
            hooks.on_step(offset + step)
            if hooks.on_preview is not None and hooks.preview_every > 0 and step % hooks.preview_every == 0:
                hooks.on_preview(approximate_rgb(denoised, family), offset + step)
        if hooks.cancel.should_stop:
            raise SamplingInterrupted(denoised)
    return report


def _to_pil(images: np.ndarray, model_name: str) -> list[Image.Image]:
    """Refuse non-finite output (it would silently become a black image) and convert to PIL."""
    if not np.isfinite(images).all():
        raise GenerationFailed(f"{model_name} produced NaN values in the VAE, even when decoding in float32: "
                               "select another VAE (sd_vae) or a fixed one for fp16; nothing was saved")
    return [Image.fromarray((image * 255).round().clip(0, 255).astype(np.uint8)) for image in images]


def _empty_cache() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    _trim_heap()


def _trim_heap() -> None:
    """Give freed model memory back to the OS: glibc keeps large freed arenas otherwise (RSS stays high)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
