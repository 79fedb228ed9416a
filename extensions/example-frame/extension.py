"""Example extension: a "Draw a frame" control in txt2img/img2img, a hook that draws it, an infotext field, a
tab and an API route. Off by default: tick it in the Extensions tab and restart.

Extensions import only ``modules.extensions_api``; gradio and fastapi are imported inside the UI and route hooks.
"""
from __future__ import annotations

from PIL import ImageDraw

from modules.extensions_api import ExtensionControls, UiTab, hookimpl

NAME = "example-frame"
COLOURS = {"red": (220, 30, 30), "green": (30, 170, 60), "blue": (40, 80, 220)}


def _args(request) -> dict:
    """This extension's control values on a request (empty when the control was not used)."""
    args = request.extension_args.get(NAME) or {}
    return args if isinstance(args, dict) and args.get("enabled") else {}


@hookimpl
def generation_controls(ctx, tab):
    """The controls, in an accordion of the txt2img and img2img tabs."""
    def build():
        import gradio as gr  # noqa: PLC0415 - UI code stays inside UI hooks

        return {"enabled": gr.Checkbox(label="Draw a frame", value=False, elem_id=f"{tab}_example_frame_enabled"),
                "colour": gr.Dropdown(label="Frame colour", choices=list(COLOURS), value="red"),
                "width": gr.Slider(1, 16, value=4, step=1, label="Frame width")}
    return ExtensionControls(title="Example: frame", build=build)


@hookimpl
def postprocess_image(image, request):
    """Draw the frame on each image (before it is saved with its infotext)."""
    args = _args(request)
    if not args:
        return None
    framed = image.copy()
    width = max(1, min(int(args.get("width", 4)), min(image.size) // 2))
    ImageDraw.Draw(framed).rectangle((0, 0, image.width - 1, image.height - 1),
                                     outline=COLOURS.get(args.get("colour"), COLOURS["red"]), width=width)
    return framed


@hookimpl
def extra_infotext(request):
    """Record the frame in the image's parameters."""
    args = _args(request)
    return {"Frame": f"{args.get('colour', 'red')} {int(args.get('width', 4))}px"} if args else None


@hookimpl
def ui_tabs(ctx):
    """A tab of its own."""
    def build():
        import gradio as gr  # noqa: PLC0415

        gr.Markdown("The example extension is loaded. Tick **Draw a frame** under the generation controls.")
    return [UiTab(title="Example", build=build, elem_id="example_frame_tab")]


@hookimpl
def register_routes(ctx):
    """``GET /example-frame/colours``: the colours this extension draws."""
    from fastapi import APIRouter  # noqa: PLC0415

    router = APIRouter()

    @router.get("/example-frame/colours")
    def colours() -> list[str]:
        return list(COLOURS)
    return router
