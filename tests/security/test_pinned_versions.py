"""The pinned libraries are at or above the releases that fixed the advisories listed in the security spec
(torch's weights-only unpickler, Gradio's file serving and CORS checks, Pillow's decoders), and so is the torch the
tests run with. A pin lowered by mistake fails here, before any release."""
from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# package -> (lowest safe release, the advisory that sets it)
MINIMUMS = {
    "gradio": ((6, 16, 0), "CVE-2026-49119 FileExplorer traversal, fixed in 6.16.0 (and every older file-serving CVE)"),
    "pillow": ((10, 3, 0), "CVE-2024-28219 buffer overflow in _imagingcms, fixed in 10.3.0"),
    "transformers": ((4, 50, 0), "refuses torch.load on a torch older than 2.6 (CVE-2025-32434) since 4.50"),
}
TORCH_MINIMUM = ((2, 10, 0), "CVE-2026-24747 memory corruption in the weights-only unpickler, fixed in 2.10.0")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


@pytest.mark.parametrize("package", sorted(MINIMUMS))
def test_pinned_release_is_at_or_above_the_fix(package):
    """Spec 1.3 rule 7: current, pinned Gradio and friends."""
    minimum, reason = MINIMUMS[package]
    pinned = _pins().get(package)
    assert pinned is not None, f"{package} is not pinned in requirements.txt"
    assert _version(pinned) >= minimum, f"{package}=={pinned} is older than the fix of {reason}"


def test_launcher_torch_and_the_test_torch_have_the_unpickler_fixes():
    """Spec 2.2 policy 1: minimum torch 2.10.0 wherever torch.load can run."""
    launcher = (REPO / "launch.py").read_text(encoding="utf-8")
    pinned = re.search(r'^TORCH_VERSION = "([^"]+)"', launcher, re.MULTILINE)
    assert pinned is not None, "launch.py no longer pins TORCH_VERSION"
    minimum, reason = TORCH_MINIMUM
    assert _version(pinned.group(1)) >= minimum, f"launcher torch {pinned.group(1)}: {reason}"
    installed = importlib.metadata.version("torch")
    assert _version(installed) >= minimum, f"the tests run torch {installed}: {reason}"
