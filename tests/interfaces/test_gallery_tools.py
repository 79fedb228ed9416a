"""Save and Zip under a gallery: downloads keep each image's parameters; the folder opens only for a local browser."""
from __future__ import annotations

import zipfile
from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from modules.core.gallery_export import file_name, zip_bytes
from modules.interfaces.gradio_ui.gallery_tools import _is_local, build_gallery_tools, wire_gallery_tools

TEXT = "a cat\nSteps: 2, Sampler: Euler, Seed: 42, Size: 8x8"


def _handlers(make_context):
    ctx = make_context()
    c: dict = {}
    with gr.Blocks() as demo:
        c["gallery"] = gr.Gallery(type="pil")
        c["selected"], c["infotexts"] = gr.State(0), gr.State([])
        build_gallery_tools(c, "txt2img")
        wire_gallery_tools(ctx, c, "txt2img")
    return {dep.fn.__name__: dep.fn for dep in demo.fns.values()}


def _path(update) -> str:
    value = update.value
    return value["path"] if isinstance(value, dict) else value


def test_save_and_zip_keep_the_parameters(make_context):
    fns = _handlers(make_context)
    red, blue = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")
    gallery = [(red, "Seed 42"), (blue, "Seed 43")]
    saved = fns["save"](gallery, 1, [TEXT, TEXT.replace("42", "43")])
    with Image.open(_path(saved)) as image:
        assert image.getpixel((0, 0)) == (0, 0, 255) and image.text["parameters"].endswith("Seed: 43, Size: 8x8")
    archive = zipfile.ZipFile(_path(fns["save_zip"](gallery, [TEXT, None])))
    assert archive.namelist() == ["00001-42.png", "00002.png"]
    with pytest.raises(gr.Error):
        fns["save"]([], 0, [])


def test_open_folder_only_for_a_local_browser():
    assert _is_local(SimpleNamespace(client=SimpleNamespace(host="127.0.0.1")))
    assert not _is_local(SimpleNamespace(client=SimpleNamespace(host="192.168.1.20")))
    assert not _is_local(None)
    assert file_name(3, None) == "00003.png" and zip_bytes([])[:2] == b"PK"
