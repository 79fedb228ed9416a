"""Typed errors raised by the core and mapped to UI messages and HTTP codes at the edges."""
from __future__ import annotations


class WebUIError(Exception):
    """Base class of every error a user may see; the message is shown as is."""


class InvalidRequest(WebUIError):
    """A request field is out of range or malformed (HTTP 422)."""


class SettingLocked(InvalidRequest):
    """A setting that may not be changed from where the change came (the API: paths, patterns, ``api_*``) (HTTP 403)."""


class SamplerNotFound(InvalidRequest):
    """A sampler or schedule name matches nothing we offer (HTTP 400)."""


class ScriptNotFound(InvalidRequest):
    """No built-in script has the requested title for this tab (HTTP 422)."""


class ModelNotFound(WebUIError):
    """No model matches the requested name, hash or title (HTTP 404)."""


class UnsupportedModel(WebUIError):
    """A model file exists but cannot be loaded: unknown layout, unsafe or corrupt file (HTTP 422)."""


class InvalidModelFile(UnsupportedModel):
    """A model file that is truncated, corrupt or inconsistent (the message names the file and the damage)."""


class NoModelLoaded(WebUIError):
    """Generation was asked for while no checkpoint is available (HTTP 409)."""


class Busy(WebUIError):
    """The server refuses to queue more work right now (HTTP 409)."""


class OutOfMemory(WebUIError):
    """The device ran out of memory; the job was abandoned and memory released (HTTP 507)."""


class ExtensionFailed(WebUIError):
    """An extension raised; the message names the extension (HTTP 500)."""


class GenerationFailed(WebUIError):
    """The model produced no usable image (for example NaN values); nothing was saved (HTTP 500)."""


class JobCancelled(WebUIError):
    """A queued job was cancelled before it started (HTTP 409)."""


class JobNotFound(WebUIError):
    """No queued, running or recently finished job has this id (HTTP 404)."""


class JobNotFinished(WebUIError):
    """The job's result was asked for before it finished (HTTP 409)."""
