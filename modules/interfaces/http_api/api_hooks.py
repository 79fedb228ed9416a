"""API hookspec: extensions add HTTP routes (mounted inside the app, so the auth middleware guards them)."""
from __future__ import annotations

from modules.core.hooks import hookspec


class ApiHooks:
    """HTTP API hooks."""

    @hookspec
    def register_routes(self, ctx):
        """Return a FastAPI ``APIRouter`` with the extension's routes, or None."""
