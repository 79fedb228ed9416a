"""The dependency rule of DESIGN.md §3 and "no side effects on import", checked on the real source tree."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULES = REPO / "modules"
CORE_FORBIDDEN = {"gradio", "fastapi", "starlette", "torch", "torchvision", "diffusers", "transformers", "spandrel"}
CORE_ALLOWED_THIRD_PARTY = {"PIL", "lark", "pluggy"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_roots(path: Path) -> set[str]:
    """Return the absolute top-level names (plus ``modules.<layer>``) that a file imports, relative ones resolved."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *filter(None, (node.module or "").split("."))])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {".".join(name.split(".")[:2]) if name.startswith("modules.") else name.split(".")[0] for name in names}


def _all_modules() -> list[str]:
    return sorted(_module_name(path) for path in MODULES.rglob("*.py"))


def test_import_linter_contracts_are_kept():
    pytest.importorskip("importlinter")
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_imports_no_forbidden_package():
    offenders = {}
    for path in sorted((MODULES / "core").rglob("*.py")):
        bad = {name for name in _imported_roots(path) if name in CORE_FORBIDDEN
               or name in ("modules.adapters", "modules.interfaces", "modules.bootstrap")}
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert offenders == {}


def test_core_imports_only_stdlib_pillow_lark_pluggy():
    allowed = set(sys.stdlib_module_names) | CORE_ALLOWED_THIRD_PARTY | {"modules", "modules.core", "__future__"}
    offenders = {}
    for path in sorted((MODULES / "core").rglob("*.py")):
        bad = sorted(name for name in _imported_roots(path) if name not in allowed)
        if bad:
            offenders[str(path.relative_to(REPO))] = bad
    assert offenders == {}


def test_cli_imports_only_the_stdlib():
    # modules.interfaces here is launch_options; import-linter keeps gradio_ui and http_api out of the CLI
    allowed = set(sys.stdlib_module_names) | {"__future__", "modules", "modules.core", "modules.interfaces"}
    for name in ("cli.py", "launch_options.py"):
        assert _imported_roots(MODULES / "interfaces" / name) <= allowed


_IMPORT_ALL = """
import json, sys, threading
names = json.loads(sys.stdin.read())
sys.argv = ["webui.py", "--definitely-bogus-flag", "--port", "not-a-number", "--help"]
before = set(threading.enumerate())
failures = {}
for name in names:
    try:
        __import__(name)
    except SystemExit as exc:
        failures[name] = f"SystemExit({exc.code}) on import: argv parsed at import time?"
    except BaseException as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
started = [t.name for t in threading.enumerate() if t not in before and not t.daemon]
heavy = sorted(m for m in ("torch", "diffusers", "transformers", "gradio", "fastapi") if m in sys.modules)
print(json.dumps({"failures": failures, "threads": started, "heavy": heavy}))
"""


def _import_in_subprocess(names: list[str]) -> dict:
    env = {**os.environ, "COMMANDLINE_ARGS": "--also-bogus", "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", _IMPORT_ALL], cwd=REPO, env=env, input=json.dumps(names),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_importing_any_module_has_no_side_effects():
    report = _import_in_subprocess(_all_modules())
    assert report["failures"] == {}
    assert report["threads"] == []


def test_importing_core_pulls_in_no_heavy_library():
    report = _import_in_subprocess([name for name in _all_modules() if name.startswith("modules.core")])
    assert report["failures"] == {}
    assert report["heavy"] == []


def test_extensions_import_only_the_extensions_api():
    """DESIGN.md §8: an extension imports `modules.extensions_api` and nothing else of ours (gradio and fastapi
    only inside its UI and route hooks, which this static check allows)."""
    folders = [p for p in (REPO / "extensions").iterdir() if (p / "extension.py").is_file()]
    assert folders, "the example extension ships in extensions/"
    for folder in folders:
        ours = {name for name in _imported_roots(folder / "extension.py") if name.startswith("modules")}
        assert ours <= {"modules", "modules.extensions_api"}, (folder.name, ours)


def test_extensions_api_pulls_in_no_ui_or_web_library():
    report = _import_in_subprocess(["modules.extensions_api"])
    assert report["failures"] == {} and not {"gradio", "fastapi", "torch"} & set(report["heavy"])
