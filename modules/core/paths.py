"""Paths: every folder the app uses (data, models, outputs, extensions), derived from one data dir."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modules.core.errors import InvalidRequest


def _dirs(*paths: Path | None) -> tuple[Path, ...]:
    """Return the given paths without Nones and duplicates, in order."""
    return tuple(dict.fromkeys(p for p in paths if p is not None))


@dataclass(frozen=True)
class Paths:
    """The folders of one installation; A1111 names, relative to the data dir unless overridden."""

    data_dir: Path
    models_dir: Path
    ckpt_dirs: tuple[Path, ...]
    vae_dirs: tuple[Path, ...]
    lora_dirs: tuple[Path, ...]
    embeddings_dir: Path
    extensions_dir: Path
    outputs_root: Path
    config_file: Path
    cache_dir: Path
    configs_dir: Path
    styles_file: Path
    ui_config_file: Path

    @classmethod
    def from_root(cls, data_dir: Path, *, install_dir: Path, models_dir: Path | None = None,
                  ckpt_dir: Path | None = None, vae_dir: Path | None = None, lora_dir: Path | None = None,
                  embeddings_dir: Path | None = None) -> Paths:
        """Build the folders from the data dir and the optional `--*-dir` overrides; touches no disk."""
        data_dir = Path(data_dir)
        models = Path(models_dir) if models_dir is not None else data_dir / "models"
        return cls(
            data_dir=data_dir,
            models_dir=models,
            ckpt_dirs=_dirs(models / "Stable-diffusion", ckpt_dir),
            vae_dirs=_dirs(models / "VAE", vae_dir),
            lora_dirs=_dirs(models / "Lora", models / "LyCORIS", lora_dir),
            embeddings_dir=Path(embeddings_dir) if embeddings_dir is not None else data_dir / "embeddings",
            extensions_dir=data_dir / "extensions",
            outputs_root=data_dir,
            config_file=data_dir / "config.json",
            cache_dir=data_dir / "cache",
            configs_dir=Path(install_dir) / "configs",
            styles_file=data_dir / "styles.csv",
            ui_config_file=data_dir / "ui-config.json",
        )

    def ensure_user_folders(self) -> None:
        """Create the user folders A1111 users expect (models, embeddings, extensions, outputs)."""
        for folder in (self.ckpt_dirs[0], self.vae_dirs[0], self.lora_dirs[0], self.embeddings_dir,
                       self.extensions_dir, self.outputs_root / "outputs"):
            folder.mkdir(parents=True, exist_ok=True)

    def resolve_output_dir(self, setting_value: str) -> Path:
        """Return an output-folder setting (e.g. "outputs/txt2img-images") as an absolute path in the data dir.

        Relative values are taken relative to `outputs_root`; `..` or absolute paths leading out of the data dir
        raise InvalidRequest. The check is lexical, so folders the user symlinked elsewhere keep working.
        """
        if not setting_value or "\0" in setting_value:
            raise InvalidRequest(f"Invalid output folder setting: {setting_value!r}")
        root = Path(os.path.abspath(self.data_dir))
        target = Path(os.path.abspath(Path(os.path.abspath(self.outputs_root)) / setting_value))
        if not target.is_relative_to(root):
            raise InvalidRequest(f"Output folder {setting_value} is outside the data folder {root}")
        return target
