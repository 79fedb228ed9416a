"""Prepare the Python environment (torch and torchvision, pinned requirements), then start the web UI.

Usage: ``python launch.py [flags]`` (webui.sh / webui.bat call it inside the venv). Stdlib only, so it runs before
anything is installed. Reads ``COMMANDLINE_ARGS`` (appended to the flags), ``TORCH_COMMAND`` (how to install
torch and torchvision) and ``REQS_FILE`` (default ``requirements.txt``) from the environment, as AUTOMATIC1111's
launcher does.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

from modules.interfaces.cli import LaunchOptions, parse, split_commandline_args

ROOT = Path(__file__).resolve().parent
TORCH_VERSION = "2.14.1"
TORCHVISION_VERSION = "0.29.1"  # the release built against TORCH_VERSION; spandrel (upscalers) imports it
# With an NVIDIA GPU, torch comes from PyTorch's CUDA 13.0 wheel index (torch 2.14 is built for CUDA 12.6, 13.0
# and 13.2; 13.0 is also what PyPI serves on Linux): those wheels run on drivers >= 580 and cover GPUs from
# Turing to Blackwell. Without one, PyPI's torch is used (it runs on the CPU, and MPS on Apple silicon).
# Older GPUs or drivers (cu126), AMD (ROCm), Intel: set TORCH_COMMAND in webui-user.sh / webui-user.bat.
CUDA_INDEX_URL = "https://download.pytorch.org/whl/cu130"
SUPPORTED_PYTHON = ((3, 10), (3, 12))
_REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:==\s*([^\s;,]+))?")


def has_nvidia_gpu() -> bool:
    """Return True when ``nvidia-smi`` is on PATH and succeeds."""
    command = shutil.which("nvidia-smi")
    if command is None:
        return False
    try:
        return subprocess.run([command], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def default_torch_command(nvidia_gpu: bool) -> str:
    """Return the pip command that installs torch and its torchvision, together, for this hardware."""
    # one command for both, so pip picks the two builds from the same index and never mixes them
    packages = f"torch=={TORCH_VERSION} torchvision=={TORCHVISION_VERSION}"
    if nvidia_gpu:
        return f"pip install {packages} --extra-index-url {CUDA_INDEX_URL}"
    return f"pip install {packages}"


def command_argv(command: str) -> list[str]:
    """Turn a ``pip ...`` command line into argv run by this interpreter; other commands run as written."""
    tokens = split_commandline_args(command)
    if tokens and tokens[0] == "pip":
        return [sys.executable, "-m", *tokens]
    return tokens


def missing_requirements(path: Path) -> list[str]:
    """Return the requirement lines of ``path`` whose package is absent or installed at another pinned version."""
    missing = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            missing += missing_requirements(path.parent / line.split(None, 1)[1].strip())
            continue
        match = _REQUIREMENT.match(line)
        if line.startswith("-") or match is None:
            continue  # blank lines and pip options are left to pip
        name, pinned = match.groups()
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(line)
            continue
        if pinned is not None and installed.split("+")[0] != pinned:
            missing.append(line)
    return missing


def _run(title: str, argv: Sequence[str]) -> bool:
    print(title, flush=True)
    try:
        code = subprocess.run(list(argv)).returncode
    except OSError as err:  # the command itself could not be started
        print(f"Error: {err}", file=sys.stderr)
        code = -1
    if code != 0:
        print(f"Error: {title} failed (exit code {code}). Command: {shlex.join(argv)}", file=sys.stderr)
    importlib.invalidate_caches()
    return code == 0


def check_python_version() -> None:
    """Warn (do not fail) when Python is outside the tested 3.10-3.12 range."""
    low, high = SUPPORTED_PYTHON
    if not low <= sys.version_info[:2] <= high:
        print(f"WARNING: Python {platform.python_version()} is not tested; use Python 3.10-3.12 "
              "(or pass --skip-python-version-check to hide this message).", file=sys.stderr)


def _installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def install_torch(options: LaunchOptions, environ: Mapping[str, str], nvidia_gpu: bool) -> bool:
    """Install torch and torchvision with TORCH_COMMAND (or the hardware default) when either is missing or when
    --reinstall-torch is given."""
    # torchvision counts too: left to requirements.txt (spandrel needs it), pip would take PyPI's newest, which
    # needs a newer torch and replaces the one installed here
    present = all(importlib.util.find_spec(name) is not None for name in ("torch", "torchvision"))
    if present and not options.reinstall_torch:
        return True
    command = environ.get("TORCH_COMMAND") or default_torch_command(nvidia_gpu)
    return _run(f"Installing torch: {command}", command_argv(command))


def check_torch(options: LaunchOptions, nvidia_gpu: bool) -> None:
    """Warn about a torch or torchvision other than the tested release, or a torch that cannot use a present
    NVIDIA GPU."""
    version = _installed_version("torch")
    if version is None:
        return
    vision = _installed_version("torchvision") or "(none)"
    tested = (TORCH_VERSION, TORCHVISION_VERSION)
    if not options.skip_version_check and (version.split("+")[0], vision.split("+")[0]) != tested:
        print(f"WARNING: torch {version} and torchvision {vision} are installed; this release is tested with "
              f"torch {TORCH_VERSION} and torchvision {TORCHVISION_VERSION} (--reinstall-torch installs them; "
              "--skip-version-check hides this message).", file=sys.stderr)
    if nvidia_gpu and not options.skip_torch_cuda_test:
        probe = [sys.executable, "-c", "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"]
        if subprocess.run(probe, capture_output=True).returncode != 0:
            print("WARNING: an NVIDIA GPU is present but torch cannot use CUDA: images will be generated on the "
                  "CPU. Install a CUDA build (TORCH_COMMAND + --reinstall-torch) or pass --skip-torch-cuda-test.",
                  file=sys.stderr)


def install_requirements(environ: Mapping[str, str]) -> bool:
    """Install REQS_FILE (default requirements.txt) only if some pinned requirement is missing."""
    path = ROOT / environ.get("REQS_FILE", "requirements.txt")
    if not path.is_file():
        print(f"Error: requirements file {path} not found (REQS_FILE)", file=sys.stderr)
        return False
    missing = missing_requirements(path)
    if not missing:
        return True
    what = ", ".join(missing) if len(missing) <= 3 else f"{len(missing)} missing or different versions"
    title = f"Installing requirements ({what})"
    return _run(title, [sys.executable, "-m", "pip", "install", "--prefer-binary", "-r", str(path)])


def prepare_environment(options: LaunchOptions, environ: Mapping[str, str]) -> bool:
    """Check Python and install what is missing, honouring the --skip-* and --reinstall-torch flags."""
    if options.skip_prepare_environment:
        return True
    if not options.skip_python_version_check:
        check_python_version()
    nvidia_gpu = has_nvidia_gpu()
    if not options.skip_install:
        if not install_torch(options, environ, nvidia_gpu) or not install_requirements(environ):
            return False
    check_torch(options, nvidia_gpu)
    return True


def dump_sysinfo() -> None:
    """Print the platform and the installed versions of torch and the pinned requirements."""
    print(f"Platform: {platform.platform()}")
    path = ROOT / "requirements.txt"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for line in ["torch", "torchvision", *lines]:
        match = _REQUIREMENT.match(line.strip())
        if match:
            try:
                print(f"{match.group(1)}: {importlib.metadata.version(match.group(1))}")
            except importlib.metadata.PackageNotFoundError:
                print(f"{match.group(1)}: not installed")


def start(argv: Sequence[str], options: LaunchOptions, environ: Mapping[str, str]) -> int:
    """Import webui.py and run its main() with the original argv (it re-reads COMMANDLINE_ARGS itself)."""
    merged = [*argv, *split_commandline_args(environ.get("COMMANDLINE_ARGS", ""))]
    what = "API server" if options.nowebui else "Web UI"
    print(f"Launching {what} with arguments: {shlex.join(merged)}", flush=True)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import webui  # the app and its heavy dependencies exist only after prepare_environment

    return int(webui.main(list(argv)) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the environment, then start the web UI; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parse(argv, os.environ, install_dir=ROOT)
    print(f"Python {sys.version.split()[0]} ({sys.executable})", flush=True)
    if options.dump_sysinfo:
        dump_sysinfo()
        return 0
    if not prepare_environment(options, os.environ):
        print("Launch unsuccessful: see the error above.", file=sys.stderr)
        return 1
    if options.exit:
        print("Exiting because of --exit argument")
        return 0
    return start(argv, options, os.environ)


if __name__ == "__main__":
    sys.exit(main())
