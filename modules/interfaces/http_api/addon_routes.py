"""``/sdapi/v1`` listing and refresh routes for VAEs and LoRAs, closing over the AppContext's add-on catalog."""
from __future__ import annotations

from typing import Callable

from modules.core.addon_catalog import AddonKind
from modules.core.context import AppContext

Routes = list[tuple[str, str, Callable]]


def addon_routes(ctx: AppContext) -> Routes:
    """(method, path under ``/sdapi/v1``, handler) for ``sd-vae``, ``loras``, ``refresh-vae`` and ``refresh-loras``."""

    def sd_vae() -> list[dict]:
        """List the VAE files (checkpoint-folder ``*.vae.*`` included)."""
        return [{"model_name": r.filename, "filename": r.name} for r in ctx.addons.vaes()]

    def loras() -> list[dict]:
        """List the LoRA files with their alias and safetensors metadata."""
        return [{"name": r.stem, "alias": r.alias, "path": r.name, "metadata": ctx.addons.metadata(r)}
                for r in ctx.addons.loras()]

    def refresh_vae() -> None:
        """Rescan the VAE folders."""
        ctx.addons.refresh(AddonKind.VAE)

    def refresh_loras() -> None:
        """Rescan the LoRA folders."""
        ctx.addons.refresh(AddonKind.LORA)

    return [("GET", "/sd-vae", sd_vae), ("GET", "/loras", loras),
            ("POST", "/refresh-vae", refresh_vae), ("POST", "/refresh-loras", refresh_loras)]
