"""Login credentials from ``--api-auth``, ``--gradio-auth`` and ``--gradio-auth-path``, checked in constant time.

Policy: the UI logs in with ``--gradio-auth`` plus the lines of ``--gradio-auth-path`` (A1111). The API takes
``--api-auth`` if given, else the UI credentials, so a login-protected UI never leaves its API open (A1111 keeps the
two independent, which leaks). Stdlib only: the CLI validates flag values with :func:`parse_credentials`.
"""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .launch_options import LaunchOptions


class CredentialError(ValueError):
    """A credential list or file that cannot be used; the message never contains a password."""


@dataclass(frozen=True)
class Credential:
    """One user name and its password (left out of ``repr`` so it never reaches a log)."""

    user: str
    password: str = field(repr=False)


def parse_credentials(text: str, *, source: str = "") -> tuple[Credential, ...]:
    """Split ``"u:p,u2:p2"`` on commas; the first ``:`` ends the user name; blanks around items and empty items go.

    >>> parse_credentials(" alice:se:cret , ,bob:pw ")
    (Credential(user='alice'), Credential(user='bob'))
    >>> parse_credentials("alice:se:cret")[0].password
    'se:cret'
    >>> parse_credentials("a:b,hunter2")
    Traceback (most recent call last):
    ...
    modules.interfaces.credentials.CredentialError: entry 2 is not user:password
    """
    where = f"{source}: " if source else ""
    found = []
    for number, entry in enumerate(text.split(","), start=1):
        if not entry.strip():
            continue
        user, colon, password = entry.strip().partition(":")
        user, password = user.strip(), password.strip()
        if not colon:
            raise CredentialError(f"{where}entry {number} is not user:password")
        if not user or not password:
            raise CredentialError(f"{where}entry {number} has an empty user name or password")
        found.append(Credential(user, password))
    return tuple(found)


def read_credentials_file(path: Path) -> tuple[Credential, ...]:
    """Read a ``--gradio-auth-path`` file: every line in the ``--gradio-auth`` format."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(f"--gradio-auth-path: cannot read {path}: {exc}") from None
    lines = text.splitlines()
    return tuple(cred for number, line in enumerate(lines, start=1)
                 for cred in parse_credentials(line, source=f"--gradio-auth-path {path}, line {number}"))


@dataclass(frozen=True)
class CredentialStore:
    """A set of logins; falsy when empty (no login asked for)."""

    credentials: tuple[Credential, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.credentials)

    def verify(self, user: str, password: str) -> bool:
        """Return True if one entry matches; all entries are compared, so timing tells nothing about which exist."""
        given_user, given_password = _digest(user), _digest(password)
        matched = False
        for cred in self.credentials:
            user_ok = secrets.compare_digest(_digest(cred.user), given_user)
            password_ok = secrets.compare_digest(_digest(cred.password), given_password)
            matched |= user_ok & password_ok
        return matched


def _digest(text: str) -> bytes:
    """A fixed-length stand-in for a secret, so comparisons do not even reveal its length."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def ui_credentials(options: LaunchOptions) -> CredentialStore:
    """The UI logins: ``--gradio-auth`` plus every line of ``--gradio-auth-path``."""
    found = parse_credentials(options.gradio_auth or "", source="--gradio-auth")
    if options.gradio_auth_path:
        found += read_credentials_file(options.gradio_auth_path)
    return CredentialStore(found)


def api_credentials(options: LaunchOptions) -> CredentialStore:
    """The API logins: ``--api-auth`` if given, else the UI logins (a protected UI never has an open API)."""
    if options.api_auth is None:
        return ui_credentials(options)
    found = parse_credentials(options.api_auth, source="--api-auth")
    if not found:
        raise CredentialError("--api-auth: no user:password given")
    return CredentialStore(found)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposed_without_login(options: LaunchOptions) -> bool:
    """True when the server listens beyond loopback and the API has no login: then the dangerous features
    (server stop/restart, path and extension settings) are switched off."""
    return not _is_loopback(options.bind_host) and not api_credentials(options)


def exposure_warnings(options: LaunchOptions, *, ui: bool) -> list[str]:
    """Warnings for a server bound beyond loopback with no login (or an open UI); raises CredentialError early."""
    api_logins, ui_logins = api_credentials(options), ui_credentials(options)
    if _is_loopback(options.bind_host):
        return []
    where = f"{options.bind_host}:{options.effective_port}"
    if not api_logins:
        return [f"SECURITY WARNING: listening on {where} with NO authentication: anyone who can reach this machine "
                f"can use {'the UI and the API' if ui else 'the API'}. Add --gradio-auth user:password "
                "(or --api-auth). Until then server stop/restart and changes to folders, file name patterns and "
                "extensions are disabled."]
    if ui and not ui_logins:
        return [f"SECURITY WARNING: listening on {where} and the UI has no login (only the API needs "
                "--api-auth credentials). Add --gradio-auth user:password."]
    return []
