"""The project's version strings; APP_VERSION is what the infotext `Version` field says."""
from __future__ import annotations

PROJECT_NAME = "sdwebui"
__version__ = "0.1.0"
# Not a bare "0.1.0": A1111 would parse that as older than v1.6.0 and switch on back-compat behaviours.
APP_VERSION = f"{PROJECT_NAME}-{__version__}"
