"""Turn argv plus ``COMMANDLINE_ARGS`` into frozen :class:`LaunchOptions` (AUTOMATIC1111 flag names and meanings).

Stdlib only and free of side effects: nothing is parsed until :func:`parse` is called.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from dataclasses import fields
from pathlib import Path
from typing import Mapping, Sequence

from .credentials import CredentialError, parse_credentials
from .launch_options import API_ONLY_PORT, DEFAULT_PORT, LaunchOptions

__all__ = ["API_ONLY_PORT", "DEFAULT_PORT", "LaunchOptions", "build_parser", "parse"]

INSTALL_DIR = Path(os.path.abspath(__file__)).parents[2]
_OFFLOAD_NOTE = "not yet implemented: accepted for compatibility; models stay fully on the device"
_LEGACY_NOTE = "legacy AUTOMATIC1111 flag: accepted and ignored"


class _RecordIgnored(argparse.Action):
    """Accept a legacy flag (and its value, if it takes one) and remember only that it was given."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, (*getattr(namespace, self.dest), option_string))


def _switches(group, flags: Mapping[str, str]) -> None:
    for flag, text in flags.items():
        group.add_argument(flag, action="store_true", help=text)


def _strings(group, flags: Mapping[str, tuple[str, str]]) -> None:
    for flag, (metavar, text) in flags.items():
        group.add_argument(flag, default=None, metavar=metavar, help=text)


def _paths(group, flags: Mapping[str, str], metavar: str = "PATH") -> None:
    for flag, text in flags.items():
        group.add_argument(flag, type=Path, default=None, metavar=metavar, help=text)


def _add_path_flags(parser: argparse.ArgumentParser, install_dir: Path) -> None:
    g = parser.add_argument_group("paths")
    g.add_argument("--data-dir", type=Path, default=install_dir, metavar="DIR",
                   help=f"base folder for all user data: models, outputs, config.json (default: {install_dir})")
    _paths(g, {
        "--models-dir": "base folder for models (default: <data-dir>/models)",
        "--ckpt-dir": "extra folder with Stable Diffusion checkpoints, scanned besides models/Stable-diffusion",
        "--ckpt": "checkpoint file to add to the list and load at start",
        "--vae-dir": "extra folder with VAE files, scanned besides models/VAE",
        "--vae-path": "VAE file to always use; disables the VAE settings",
        "--lora-dir": "folder with LoRA/LyCORIS files (default: <models-dir>/Lora)",
        "--embeddings-dir": "folder with textual-inversion embeddings (default: <data-dir>/embeddings)",
        "--hypernetwork-dir": "hypernetwork folder (accepted; hypernetworks are not supported)",
        "--esrgan-models-path": "folder with ESRGAN upscaler models",
        "--realesrgan-models-path": "folder with RealESRGAN upscaler models",
        "--gfpgan-models-path": "folder with GFPGAN face-restoration models",
        "--codeformer-models-path": "folder with CodeFormer face-restoration models",
        "--ui-settings-file": "settings file (default: <data-dir>/config.json)",
        "--ui-config-file": "UI component defaults file (default: <data-dir>/ui-config.json)",
        "--config": "default model config for checkpoints without their own (A1111: a YAML file)",
    })
    g.add_argument("--styles-file", action="append", default=[], metavar="PATH",
                   help="prompt styles CSV; repeat the flag for several files, wildcards allowed (default: styles.csv)")


def _add_server_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("server, network and authentication")
    g.add_argument("--port", type=int, default=None,
                   help=f"port to listen on (default: {DEFAULT_PORT}, or {API_ONLY_PORT} with --nowebui)")
    g.add_argument("--timeout-keep-alive", type=int, default=30, metavar="SECONDS",
                   help="HTTP keep-alive timeout (default: 30)")
    g.add_argument("--theme", choices=("light", "dark"), default=None, help="force the UI theme")
    _paths(g, {
        "--gradio-auth-path": "file with more UI logins in the --gradio-auth format (one or more lines)",
        "--tls-keyfile": "TLS private key; needs --tls-certfile",
        "--tls-certfile": "TLS certificate; needs --tls-keyfile",
    }, metavar="FILE")
    _strings(g, {
        "--server-name": ("HOST", "address or host name to bind (overrides --listen)"),
        "--ngrok": ("TOKEN", "ngrok tunnel token: recognised, but no tunnel is opened (a warning is printed)"),
        "--subpath": ("PATH", "serve under this URL path prefix (reverse proxy)"),
        "--cors-allow-origins": ("ORIGINS", "comma-separated origins that browser pages may call the server from "
                                 "(CORS, with credentials; default: no CORS header at all)"),
        "--allowed-hosts": ("NAMES", "comma-separated host names the server answers to besides IP addresses, "
                            "localhost and --server-name (e.g. the name of a reverse proxy; '*' allows any). Other "
                            "names are refused, which stops DNS-rebinding attacks from web pages"),
    })
    g.add_argument("--max-body-size", type=int, default=256, metavar="MB",
                   help="largest request body accepted, in megabytes (default: 256); larger requests get 413")
    _add_access_flags(g)
    g.add_argument("--gradio-allowed-path", action="append", type=Path, default=[], metavar="DIR",
                   help="extra folder the UI may serve files from (repeatable)")
    _switches(g, {
        "--listen": "bind 0.0.0.0 so other machines on the network can connect",
        "--api": "serve the /sdapi/v1 HTTP API alongside the UI",
        "--nowebui": "serve only the HTTP API, no UI (default port 7861)",
        "--api-log": "log every API request: method, path, status, duration, client address (never credentials "
                     "or bodies)",
        "--api-server-stop": "enable the /sdapi/v1/server-kill, server-restart and server-stop routes",
        "--share": "recognised for compatibility: no public tunnel is opened (a warning is printed)",
        "--autolaunch": "open the UI in the default web browser once the server is up",
        "--disable-tls-verify": "allow self-signed TLS certificates",
        "--enable-insecure-extension-access": "accepted for compatibility: extensions are never installed from URLs",
    })


def _credentials_text(text: str) -> str:
    """Check a --api-auth/--gradio-auth value; the message names the bad entry, never its text (a password)."""
    try:
        if not parse_credentials(text):
            raise CredentialError("no user:password given")
    except CredentialError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _regex_text(text: str) -> str:
    """Check that a --cors-allow-origins-regex value compiles."""
    try:
        re.compile(text)
    except re.error as err:
        raise argparse.ArgumentTypeError(f"not a regular expression: {err}") from None
    return text


def _add_access_flags(g) -> None:
    """Add the login and CORS-pattern flags, whose values are checked while parsing."""
    g.add_argument("--api-auth", type=_credentials_text, default=None, metavar="USER:PASS[,...]",
                   help='HTTP Basic logins for every non-UI route (/sdapi, /docs, /openapi.json), "u:p,u2:p2"; '
                        "without it the API takes the --gradio-auth logins")
    g.add_argument("--gradio-auth", type=_credentials_text, default=None, metavar="USER:PASS[,...]",
                   help='UI logins, "u:p,u2:p2" (a password may contain ":"); they also guard the API unless '
                        "--api-auth is given")
    g.add_argument("--cors-allow-origins-regex", type=_regex_text, default=None, metavar="REGEX",
                   help="CORS origin allowlist as one regular expression (must match the whole origin)")


def _add_device_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("precision, memory and devices")
    g.add_argument("--use-cpu", nargs="+", type=str.lower, default=[], metavar="MODULE",
                   help="run these parts on the CPU: all, sd, interrogate, gfpgan, esrgan, codeformer")
    g.add_argument("--device-id", type=int, default=None, metavar="N", help="CUDA device index to use")
    g.add_argument("--precision", choices=("full", "half", "autocast"), default="autocast",
                   help="full: fp32; half: fp16 without autocast; autocast: fp16 weights, autocast maths (default)")
    _switches(g, {
        "--no-half": "keep the model in 32-bit floats",
        "--no-half-vae": "keep the VAE in 32-bit floats",
        "--upcast-sampling": "fp16 weights with fp32 sampling maths; no effect with --no-half",
        "--xformers": "use xformers attention where available",
        "--force-enable-xformers": "use xformers attention even if the check says it may not work",
        "--opt-sdp-attention": "use PyTorch scaled-dot-product attention",
        "--opt-sdp-no-mem-attention": "SDP attention without the memory-efficient kernel (deterministic)",
        "--opt-split-attention": "attention hint (A1111 split attention): mapped to the closest available choice",
        "--opt-split-attention-v1": "attention hint (A1111 split attention v1): mapped to the closest available choice",
        "--opt-split-attention-invokeai": "attention hint (InvokeAI split attention): mapped to the closest choice",
        "--opt-sub-quad-attention": "attention hint (sub-quadratic attention): mapped to the closest available choice",
        "--disable-opt-split-attention": "use plain attention, no optimised implementation",
        "--opt-channelslast": "use the channels_last memory format for the UNet",
        "--medvram": _OFFLOAD_NOTE,
        "--medvram-sdxl": _OFFLOAD_NOTE,
        "--lowvram": _OFFLOAD_NOTE,
        "--lowram": "load checkpoint weights straight to VRAM instead of RAM",
        "--disable-nan-check": "do not check generated latents/images for NaNs",
    })


def _add_behaviour_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("behaviour, settings and safety")
    g.add_argument("--freeze-settings-in-sections", default=None, metavar="SECTIONS",
                   help="make the settings in these comma-separated sections read-only")
    g.add_argument("--freeze-specific-settings", default=None, metavar="KEYS",
                   help="make these comma-separated setting keys read-only")
    g.add_argument("--filenames-max-length", type=int, default=128, metavar="N",
                   help="maximum length of one file-name part (default: 128)")
    g.add_argument("--loglevel", default=None, type=str.upper, metavar="LEVEL",
                   help="log level: CRITICAL, ERROR, WARNING, INFO or DEBUG")
    _switches(g, {
        "--no-hashing": "do not compute sha256 of checkpoints (Model hash is then left out of the infotext)",
        "--skip-load-model-at-start": "start without loading a checkpoint",
        "--no-download-sd-model": "accepted for compatibility: models are never downloaded",
        "--hide-ui-dir-config": "hide and lock the output-folder and file-name settings",
        "--freeze-settings": "make all settings read-only",
        "--no-prompt-history": "do not write params.txt with the last generation's parameters",
        "--unix-filenames-sanitization": "only forbid '/' in file names",
        "--use-textbox-seed": "show the seed as a text box (for very long seeds)",
        "--disable-all-extensions": "load no extension",
        "--disable-extra-extensions": "load only built-in extensions",
        "--disable-safe-unpickle": "accepted for compatibility: pickles are never loaded in-process (warns)",
        "--allow-code": "accepted for compatibility: running custom code is not supported (a warning is printed)",
    })


def _add_launcher_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("launcher (launch.py, webui.sh, webui.bat)")
    g.add_argument("-f", dest="allow_root", action="store_true", help="webui.sh: allow running as root")
    _switches(g, {
        "--exit": "exit after preparing the environment (installing packages)",
        "--skip-install": "do not install missing packages",
        "--skip-prepare-environment": "skip every environment check and install",
        "--skip-torch-cuda-test": "do not warn when an NVIDIA GPU is present but torch cannot use CUDA",
        "--skip-python-version-check": "do not check that Python is 3.10-3.12",
        "--reinstall-torch": "install torch (TORCH_COMMAND) even if it is already installed",
        "--reinstall-xformers": "accepted for compatibility: xformers is not installed by the launcher",
        "--skip-version-check": "do not check the installed torch version",
        "--update-check": "accepted for compatibility: no update check is made",
        "--update-all-extensions": "accepted for compatibility: extensions are not updated at start",
        "--log-startup": "accepted for compatibility: start-up steps are not timed",
        "--dump-sysinfo": "launch.py: print the platform and installed package versions, then exit",
    })
    g = parser.add_argument_group("legacy (accepted and ignored)")
    for flag in ("--always-batch-cond-uncond", "--unload-gfpgan", "--deepdanbooru", "--show-negative-prompt",
                 "--enable-console-prompts", "--add-stop-route", "--gradio-queue", "--no-gradio-queue"):
        g.add_argument(flag, dest="ignored_flags", action=_RecordIgnored, nargs=0, help=_LEGACY_NOTE)
    for flag in ("--max-batch-count", "--gradio-img2img-tool", "--gradio-inpaint-tool", "--ngrok-region"):
        g.add_argument(flag, dest="ignored_flags", action=_RecordIgnored, metavar="VALUE", help=_LEGACY_NOTE)
    parser.set_defaults(ignored_flags=())


def build_parser(install_dir: Path = INSTALL_DIR) -> argparse.ArgumentParser:
    """Build the argument parser for every supported flag (used by parse, --help and tests)."""
    parser = argparse.ArgumentParser(
        prog="webui",
        usage="%(prog)s [options]",
        description="Stable Diffusion web UI. Flags follow AUTOMATIC1111 v1.10.1.",
        epilog="COMMANDLINE_ARGS from the environment is split with shell rules and appended to the command line. "
               "Unknown flags (often meant for A1111 extensions) are reported with a warning, not rejected.",
        allow_abbrev=False,
    )
    _add_path_flags(parser, install_dir)
    _add_server_flags(parser)
    _add_device_flags(parser)
    _add_behaviour_flags(parser)
    _add_launcher_flags(parser)
    return parser


def split_commandline_args(text: str, *, windows: bool = os.name == "nt") -> list[str]:
    """Split COMMANDLINE_ARGS with shell rules; on Windows a backslash is a path separator, not an escape.

    >>> split_commandline_args('--api --ckpt-dir "my models" --gradio-auth=a:"b c"', windows=False)
    ['--api', '--ckpt-dir', 'my models', '--gradio-auth=a:b c']
    >>> split_commandline_args('--ckpt-dir "D:/my models/" --vae-dir=D:/vae', windows=True)
    ['--ckpt-dir', 'D:/my models/', '--vae-dir=D:/vae']
    """
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    if windows:
        lexer.escape = ""
    return list(lexer)


def compatibility_warnings(options: LaunchOptions) -> list[str]:
    """Return one message per accepted flag that does nothing here or was not recognised, for the caller to log."""
    notes = []
    if options.unknown_args:
        notes.append(f"Unknown command-line arguments ignored (extension flags?): {shlex.join(options.unknown_args)}")
    if options.ignored_flags:
        notes.append(f"Legacy flags accepted and ignored: {', '.join(options.ignored_flags)}")
    if options.share or options.ngrok:
        notes.append("--share/--ngrok: no public tunnel is opened; use --listen and your own reverse proxy")
    offload = [f for f in ("medvram", "medvram_sdxl", "lowvram") if getattr(options, f)]
    if offload:
        notes.append(f"--{'/--'.join(f.replace('_', '-') for f in offload)}: {_OFFLOAD_NOTE}")
    if options.disable_safe_unpickle:
        notes.append("--disable-safe-unpickle: pickle checkpoints are never loaded in-process; convert them instead")
    if options.allow_code:
        notes.append("--allow-code: running custom code from the UI is not supported")
    return notes


def parse(
    argv: Sequence[str], environ: Mapping[str, str], *, install_dir: Path = INSTALL_DIR
) -> LaunchOptions:
    """Parse argv (without the program name) with environ's COMMANDLINE_ARGS appended; exit like argparse on errors."""
    parser = build_parser(install_dir)
    try:
        extra = split_commandline_args(environ.get("COMMANDLINE_ARGS", ""))
    except ValueError as err:
        parser.error(f"cannot split COMMANDLINE_ARGS: {err}")
    namespace, unknown = parser.parse_known_args([*argv, *extra])
    values = {f.name: getattr(namespace, f.name) for f in fields(LaunchOptions) if f.name != "unknown_args"}
    for name, value in values.items():
        if isinstance(value, list):
            values[name] = tuple(value)
    return LaunchOptions(**values, unknown_args=tuple(unknown))
