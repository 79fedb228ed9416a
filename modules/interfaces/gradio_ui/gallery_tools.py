"""Buttons under a generation gallery: open the output folder (on this machine), save the selected image, zip
them all. Downloads keep each image's ``parameters``."""
from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import gradio as gr

from modules.core.context import AppContext
from modules.core.gallery_export import file_name, png_bytes, zip_bytes

from .send_to import selected_item


def build_gallery_tools(c: dict, tab: str) -> None:
    """The three buttons and a (hidden until used) download box, as ``c["open_folder"]``, ``c["save"]``,
    ``c["zip"]``, ``c["download"]``."""
    with gr.Row(elem_id=f"{tab}_gallery_tools"):
        c["open_folder"] = gr.Button("📂", elem_id=f"{tab}_open_folder", size="sm", min_width=40,
                                     elem_classes="tool")
        c["save"] = gr.Button("💾 Save", elem_id=f"{tab}_save", size="sm")
        c["zip"] = gr.Button("🗃️ Zip", elem_id=f"{tab}_save_zip", size="sm")
    c["download"] = gr.File(label="Download", visible=False, interactive=False, elem_id=f"{tab}_download_files")


def _items(gallery: list | None, infotexts: list | None) -> list[tuple]:
    """(image, infotext) for every gallery entry."""
    texts = list(infotexts or [])
    out = []
    for index in range(len(gallery or [])):
        image, _ = selected_item(gallery, index)
        out.append((image, texts[index] if index < len(texts) else None))
    return out


def _write(name: str, data: bytes) -> str:
    """A file in a fresh temporary folder (Gradio serves it from its cache)."""
    path = Path(tempfile.mkdtemp(prefix="webui-download-")) / name
    path.write_bytes(data)
    return str(path)


def _is_local(request: gr.Request | None) -> bool:
    host = getattr(getattr(request, "client", None), "host", None)
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def open_folder(folder: Path) -> None:
    """Show `folder` in this machine's file browser."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        os.startfile(folder)  # noqa: S606 - a folder path we built, never user text
    else:
        subprocess.Popen(["open" if sys.platform == "darwin" else "xdg-open", str(folder)],  # noqa: S603
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wire_gallery_tools(ctx: AppContext, c: dict, tab: str) -> None:
    """Wire the buttons of `build_gallery_tools` (``c`` also holds ``gallery``, ``selected``, ``infotexts``)."""

    def save(gallery, selected, infotexts):
        items = _items(gallery, infotexts)
        if not items:
            raise gr.Error("Nothing to save yet: generate first")
        index = selected if isinstance(selected, int) and 0 <= selected < len(items) else 0
        image, text = items[index]
        return gr.File(value=_write(file_name(index + 1, text), png_bytes(image, text)), visible=True)

    def save_zip(gallery, infotexts):
        items = _items(gallery, infotexts)
        if not items:
            raise gr.Error("Nothing to save yet: generate first")
        return gr.File(value=_write(f"{tab}-images.zip", zip_bytes(items)), visible=True)

    def show_folder(request: gr.Request):
        if not _is_local(request):
            raise gr.Error("The output folder opens only for a browser on the machine that runs the web UI")
        key = "outdir_samples" if ctx.settings.current().get("outdir_samples") else f"outdir_{tab}_samples"
        open_folder(ctx.paths.resolve_output_dir(str(ctx.settings.current().get(key))))

    c["save"].click(save, inputs=[c["gallery"], c["selected"], c["infotexts"]], outputs=c["download"])
    c["zip"].click(save_zip, inputs=[c["gallery"], c["infotexts"]], outputs=c["download"])
    c["open_folder"].click(show_folder, queue=False)
