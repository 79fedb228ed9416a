"""The upscaler table: built-ins, latent modes and model files found in A1111's upscaler folders (no torch)."""
from __future__ import annotations

import pytest

from modules.core.errors import ModelNotFound
from modules.core.upscalers import (LATENT_UPSCALE_MODES, UpscalerCatalog, UpscalerKind, find_latent_mode,
                                    scale_from_name, upscaler_folders)


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_latent_modes_carry_interpolation_data_in_a1111_order():
    assert [(m.name, m.mode, m.antialias) for m in LATENT_UPSCALE_MODES] == [
        ("Latent", "bilinear", False), ("Latent (antialiased)", "bilinear", True),
        ("Latent (bicubic)", "bicubic", False), ("Latent (bicubic antialiased)", "bicubic", True),
        ("Latent (nearest)", "nearest", False), ("Latent (nearest-exact)", "nearest-exact", False)]
    assert find_latent_mode("Latent (nearest)").mode == "nearest" and find_latent_mode("Lanczos") is None


@pytest.mark.parametrize("stem, scale", [("4x-UltraSharp", 4), ("RealESRGAN_x4plus_anime_6B", 4),
                                         ("RealESRGAN_x2plus", 2), ("2xPSNR", 2), ("ESRGAN", 4), ("x8_model", 8)])
def test_scale_guessed_from_the_file_name(stem, scale):
    assert scale_from_name(stem) == scale


def test_catalog_lists_builtins_then_model_files_by_name(tmp_path):
    models = tmp_path / "models"
    _touch(models / "ESRGAN" / "4x-UltraSharp.pth")
    _touch(models / "RealESRGAN" / "RealESRGAN_x2plus.pth")
    _touch(models / "SwinIR" / "swinir.safetensors")
    _touch(models / "DAT" / "DAT_x3.pt")
    _touch(models / "ESRGAN" / "notes.txt")
    _touch(models / "ESRGAN" / ".hidden.pth")
    extra = _touch(tmp_path / "elsewhere" / "custom.pth").parent
    catalog = UpscalerCatalog(upscaler_folders(models, {"ESRGAN": extra}))
    records = catalog.upscalers()
    assert [r.name for r in records] == ["None", "Lanczos", "Nearest", "4x-UltraSharp", "custom", "DAT_x3",
                                         "RealESRGAN_x2plus", "swinir"]
    assert [r.kind for r in records[:3]] == [UpscalerKind.NONE, UpscalerKind.LANCZOS, UpscalerKind.NEAREST]
    real = catalog.find("RealESRGAN_x2plus")
    assert (real.kind, real.family, real.scale, real.path.name) == (UpscalerKind.MODEL, "RealESRGAN", 2,
                                                                    "RealESRGAN_x2plus.pth")
    assert catalog.find("DAT_x3").scale == 3 and catalog.find("custom").family == "ESRGAN"


def test_unknown_name_is_model_not_found_and_refresh_finds_new_files(tmp_path):
    catalog = UpscalerCatalog(upscaler_folders(tmp_path / "models"))
    with pytest.raises(ModelNotFound, match="Upscaler not found: 4x-new"):
        catalog.find("4x-new")
    _touch(tmp_path / "models" / "HAT" / "4x-new.pth")
    assert "4x-new" not in catalog.names()
    catalog.refresh()
    assert catalog.find("4x-new").family == "HAT"


def test_same_file_reached_twice_is_listed_once_and_folders_are_created_on_request(tmp_path):
    models = tmp_path / "models"
    _touch(models / "ESRGAN" / "a.pth")
    (tmp_path / "link").symlink_to(models / "ESRGAN", target_is_directory=True)
    catalog = UpscalerCatalog(upscaler_folders(models, {"ESRGAN": tmp_path / "link"}))
    assert catalog.names().count("a") == 1
    empty = UpscalerCatalog(upscaler_folders(tmp_path / "fresh"))
    empty.ensure_folders()
    assert (tmp_path / "fresh" / "ESRGAN").is_dir()
