"""Tiny, real-architecture single-file checkpoints with seeded random weights, for CPU tests.

Public API:
  build_checkpoint(family, dest, *, fmt="safetensors", seed=0, dtype=torch.float32) -> Path
  cached_checkpoint(family, fmt="safetensors", cache_dir=None) -> Path   (built once per GENERATOR_VERSION)
  tiny_config_dir(family) -> Path        diffusers config folder matching the tiny shapes
  tokenizer_kwargs(config_dir) -> dict   {"tokenizer": CLIPTokenizer, ...} to pass to from_single_file
  build_components(family, seed=0) -> (parts, state)   source modules and the single-file state dict
  build_vae_file(dest, *, family="sd15", seed=1) -> Path   standalone VAE (`encoder.*`, `decoder.*`, ...)
  build_malicious_ckpt(dest, sentinel) -> Path   a .ckpt whose full unpickling would create `sentinel`

Families: sd15, sd15-inpaint, sd2, sd2-v, sd2-inpaint, sdxl, sdxl-inpaint, sdxl-refiner.  Key names and
block/layer counts equal the real checkpoints (see key_manifests/); only widths are shrunk (tiny_configs).
"sd2-v" files get A1111's sidecar `<stem>.yaml` with `parameterization: "v"`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from .single_file_layout import single_file_state, standalone_vae_state
from .tiny_configs import CONFIGS, FAMILIES, REPO, instantiate, randomize_, tiny_configs, write_config_dir

GENERATOR_VERSION = 1
DEFAULT_CACHE = Path(os.environ.get("TINY_MODELS_CACHE", REPO / ".test-cache" / "tiny-models"))
V_SIDECAR = """\
model:
  base_learning_rate: 1.0e-4
  target: ldm.models.diffusion.ddpm.LatentDiffusion
  params:
    parameterization: "v"
    linear_start: 0.00085
    linear_end: 0.0120
    timesteps: 1000
    first_stage_key: "jpg"
    cond_stage_key: "txt"
    image_size: 96
    channels: 4
    conditioning_key: crossattn
    scale_factor: 0.18215
    use_ema: False
    unet_config:
      target: ldm.modules.diffusionmodules.openaimodel.UNetModel
      params:
        use_fp16: True
        in_channels: 4
        out_channels: 4
        model_channels: 320
        attention_resolutions: [4, 2, 1]
        num_res_blocks: 2
        channel_mult: [1, 2, 4, 4]
        num_head_channels: 64
        use_spatial_transformer: True
        use_linear_in_transformer: True
        transformer_depth: 1
        context_dim: 1024
        legacy: False
    first_stage_config:
      target: ldm.models.autoencoder.AutoencoderKL
      params:
        embed_dim: 4
        ddconfig:
          double_z: true
          z_channels: 4
          resolution: 256
          in_channels: 3
          out_ch: 3
          ch: 128
          ch_mult: [1, 2, 4, 4]
          num_res_blocks: 2
          attn_resolutions: []
          dropout: 0.0
        lossconfig:
          target: torch.nn.Identity
    cond_stage_config:
      target: ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder
      params:
        freeze: True
        layer: "penultimate"
"""


def build_components(family: str, seed: int = 0) -> tuple[dict[str, torch.nn.Module], dict[str, torch.Tensor]]:
    """Return the seeded tiny source modules of `family` and their single-file state dict."""
    cfgs = tiny_configs(family)
    parts = instantiate(family, cfgs)
    generator = torch.Generator().manual_seed(seed)
    for name in sorted(parts):
        randomize_(parts[name], generator)
    return parts, single_file_state(family, parts, cfgs)


def _atomic_path(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)
    return Path(tmp)


def save_state(state: dict[str, torch.Tensor], dest: Path, fmt: str, dtype: torch.dtype | None = None) -> Path:
    """Write a state dict as .safetensors or as a torch.save'd {"state_dict": ...} .ckpt, atomically."""
    if fmt not in ("safetensors", "ckpt"):
        raise ValueError(f"fmt must be 'safetensors' or 'ckpt', not {fmt!r}")

    def cast(t: torch.Tensor) -> torch.Tensor:
        """Return a detached, contiguous CPU copy in the requested dtype."""
        t = t.detach().to("cpu")
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        return t.contiguous().clone()

    tensors = {k: cast(v) for k, v in sorted(state.items())}
    tmp = _atomic_path(dest)
    try:
        if fmt == "safetensors":
            from safetensors.torch import save_file

            save_file(tensors, str(tmp), metadata={"format": "pt"})
        else:
            torch.save({"state_dict": tensors}, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def build_checkpoint(
    family: str, dest: Path, *, fmt: str = "safetensors", seed: int = 0, dtype: torch.dtype = torch.float32
) -> Path:
    """Write a tiny single-file checkpoint of `family` to `dest` (plus the v sidecar for sd2-v)."""
    dest = Path(dest)
    _, state = build_components(family, seed)
    save_state(state, dest, fmt, dtype)
    if family == "sd2-v":
        dest.with_suffix(".yaml").write_text(V_SIDECAR, encoding="utf-8")
    return dest


def build_vae_file(dest: Path, *, family: str = "sd15", seed: int = 1, fmt: str = "safetensors") -> Path:
    """Write a standalone tiny VAE (keys `encoder.*`, `decoder.*`, `quant_conv.*`, `post_quant_conv.*`)."""
    cfgs = tiny_configs(family)
    vae = instantiate(family, {"vae": cfgs["vae"]})["vae"]
    randomize_(vae, torch.Generator().manual_seed(seed))
    return save_state(standalone_vae_state(vae, cfgs["vae"]), Path(dest), fmt)


def generator_stamp() -> str:
    """Return GENERATOR_VERSION plus a digest of the shipped configs and the generator's own sources."""
    digest = hashlib.sha256(str(GENERATOR_VERSION).encode())
    here = Path(__file__).parent
    sources = [here / n for n in ("tiny_models.py", "tiny_configs.py", "single_file_layout.py", "ldm_keys.py")]
    for path in sorted(CONFIGS.rglob("*.json")) + sources:
        if path.name != "vocab.json":
            digest.update(path.read_bytes())
    return f"v{GENERATOR_VERSION}-{digest.hexdigest()[:10]}"


def _version_dir(cache_dir: Path | None) -> Path:
    return (Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE) / generator_stamp()


def cached_checkpoint(family: str, fmt: str = "safetensors", cache_dir: Path | None = None) -> Path:
    """Return `tiny-<family>.<fmt>` in the cache, building it once per GENERATOR_VERSION."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    path = _version_dir(cache_dir) / f"tiny-{family}.{fmt}"
    sidecar_ok = family != "sd2-v" or path.with_suffix(".yaml").is_file()
    if not (path.is_file() and sidecar_ok):
        build_checkpoint(family, path, fmt=fmt)
    return path


def tiny_config_dir(family: str, cache_dir: Path | None = None) -> Path:
    """Return a diffusers config folder for the tiny shapes of `family` (tokenizers are not copied in)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    dest = _version_dir(cache_dir) / "configs" / family
    if not (dest / "model_index.json").is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{family}.", dir=dest.parent))
        write_config_dir(tmp, tiny_configs(family))
        try:
            os.replace(tmp, dest)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def tokenizer_kwargs(config_dir: Path) -> dict:
    """Return the tokenizer objects named by `<config_dir>/tokenizers.json`, from configs/tokenizers/."""
    from transformers import CLIPTokenizer

    names = json.loads((Path(config_dir) / "tokenizers.json").read_text())
    return {slot: CLIPTokenizer.from_pretrained(str(CONFIGS / "tokenizers" / name), local_files_only=True)
            for slot, name in names.items()}


class _CreatesFile:
    """Pickles as a call to the builtin `open(path, "w")`: unpickling it creates the file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def build_malicious_ckpt(dest: Path, sentinel: Path) -> Path:
    """Write a torch-format .ckpt whose unsafe unpickling (weights_only=False) would create `sentinel`."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    payload = {"state_dict": {"model.diffusion_model.out.2.bias": torch.zeros(4)}, "callback": _CreatesFile(sentinel)}
    torch.save(payload, dest)
    return dest
