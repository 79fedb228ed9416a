"""Core hookspecs: what an extension may do to a generation. Every hook takes keyword arguments; `ctx` is the
AppContext. Hooks that return None leave things as they are."""
from __future__ import annotations

import pluggy

PROJECT = "webui"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class CoreHooks:
    """Generation hooks, called in registration order (built-in features first)."""

    @hookspec
    def app_started(self, ctx):
        """The app is built; the extension may keep what it needs from `ctx`."""

    @hookspec
    def transform_request(self, ctx, request):
        """Return a changed txt2img/img2img request (``dataclasses.replace``), or None to keep it."""

    @hookspec
    def postprocess_image(self, ctx, image, request):
        """Return a changed PIL image (before its infotext is written and it is saved), or None to keep it."""

    @hookspec
    def extra_infotext(self, request):
        """Return infotext fields ``{name: value}`` to add to every image of the request, or None."""

    @hookspec
    def after_generation(self, ctx, result):
        """The job's `GenerationResult` is ready (read only)."""
