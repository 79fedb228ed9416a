"""Command line: A1111 flag names, COMMANDLINE_ARGS merging, defaults, unknown flags, --help, and launch.py."""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modules.interfaces import cli

REPO = Path(__file__).resolve().parents[2]
INSTALL = Path("/opt/sd")

# Every flag the project promises to accept (A1111 names), by its LaunchOptions field.
PROMISED = [
    "--port", "--listen", "--server-name", "--api", "--nowebui", "--api-auth", "--gradio-auth", "--data-dir",
    "--models-dir", "--ckpt-dir", "--ckpt", "--vae-dir", "--vae-path", "--lora-dir", "--embeddings-dir",
    "--ui-settings-file", "--use-cpu", "--device-id", "--no-half", "--no-half-vae", "--precision",
    "--upcast-sampling", "--xformers", "--force-enable-xformers", "--opt-sdp-attention", "--opt-sdp-no-mem-attention",
    "--medvram", "--medvram-sdxl", "--lowvram", "--no-hashing", "--skip-load-model-at-start", "--autolaunch",
    "--loglevel", "--exit", "--skip-install", "--skip-torch-cuda-test", "--skip-python-version-check",
    "--skip-prepare-environment", "--reinstall-torch", "--skip-version-check", "--no-download-sd-model",
    "--disable-safe-unpickle", "--enable-insecure-extension-access", "--share", "--theme", "--subpath",
    "--timeout-keep-alive", "--cors-allow-origins", "--cors-allow-origins-regex", "--no-prompt-history",
    "--freeze-settings", "--hide-ui-dir-config",
]
LEGACY = ["--always-batch-cond-uncond", "--unload-gfpgan", "--deepdanbooru", "--show-negative-prompt",
          "--enable-console-prompts", "--add-stop-route", "--gradio-queue", "--no-gradio-queue"]


def parse(*argv: str, env: str | None = None) -> cli.LaunchOptions:
    return cli.parse(argv, {} if env is None else {"COMMANDLINE_ARGS": env}, install_dir=INSTALL)


def _option_actions():
    return [a for a in cli.build_parser()._actions if a.option_strings and a.dest != "help"]


def test_defaults():
    options = parse()
    assert options.data_dir == INSTALL
    assert options.port is None and options.effective_port == 7860
    assert options.bind_host == "127.0.0.1"
    assert not options.non_local and not options.force_cpu
    assert options.precision == "autocast"
    assert options.timeout_keep_alive == 30 and options.filenames_max_length == 128
    assert options.use_cpu == () and options.unknown_args == () and options.ignored_flags == ()
    assert options.models_dir is None and options.ui_settings_file is None


def test_commandline_args_are_appended_after_argv_with_quotes_kept():
    options = parse("--port", "7000", "--api", env='--port 7100 --ckpt-dir "my models/sd 1.5" --gradio-auth "a:b c"')
    assert options.port == 7100  # appended, so it wins like a later flag in A1111
    assert options.api
    assert options.ckpt_dir == Path("my models/sd 1.5")
    assert options.gradio_auth == "a:b c"


def test_commandline_args_split_keeps_windows_backslashes():
    assert cli.split_commandline_args(r'--ckpt-dir D:\sd\models --vae-dir "D:\my vae\"', windows=True) == [
        "--ckpt-dir", r"D:\sd\models", "--vae-dir", "D:\\my vae\\"]


def test_unbalanced_quotes_in_commandline_args_exit_with_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        parse(env='--ckpt "unterminated')
    assert exc.value.code == 2
    assert "COMMANDLINE_ARGS" in capsys.readouterr().err


def test_unknown_flags_are_collected_not_fatal():
    options = parse("--api", "--controlnet-dir", "/x", "--lora", env="--some-ext-flag=1 --listen")
    assert options.api and options.listen
    # --lora must not be read as an abbreviation of --lora-dir
    assert options.unknown_args == ("--controlnet-dir", "/x", "--lora", "--some-ext-flag=1")
    assert options.lora_dir is None
    assert any("--controlnet-dir" in note for note in cli.compatibility_warnings(options))


def test_legacy_flags_are_accepted_and_recorded():
    options = parse(*LEGACY, "--max-batch-count", "16", "--gradio-img2img-tool", "color-sketch")
    assert options.ignored_flags == (*LEGACY, "--max-batch-count", "--gradio-img2img-tool")
    assert options.unknown_args == ()


def test_nowebui_defaults_to_port_7861_and_port_overrides():
    assert parse("--nowebui").effective_port == 7861
    assert parse("--nowebui", "--port", "9000").effective_port == 9000
    assert parse("--port", "9001").effective_port == 9001


@pytest.mark.parametrize(("argv", "host", "non_local"), [
    ((), "127.0.0.1", False),
    (("--listen",), "0.0.0.0", True),
    (("--server-name", "sd.lan"), "sd.lan", True),
    (("--listen", "--server-name", "10.1.2.3"), "10.1.2.3", True),  # A1111: --server-name wins
    (("--share",), "127.0.0.1", True),
    (("--ngrok", "tok"), "127.0.0.1", True),
])
def test_bind_host_and_non_local(argv, host, non_local):
    options = parse(*argv)
    assert options.bind_host == host
    assert options.non_local is non_local


@pytest.mark.parametrize(("modules", "force_cpu"), [
    (["all"], True), (["sd"], True), (["SD"], True), (["interrogate", "sd"], True), (["interrogate"], False),
])
def test_use_cpu_takes_several_lowercased_modules(modules, force_cpu):
    options = parse("--use-cpu", *modules, "--api")
    assert options.use_cpu == tuple(m.lower() for m in modules)
    assert options.force_cpu is force_cpu and options.api


def test_typed_values():
    options = parse("--device-id", "1", "--precision", "half", "--theme", "dark", "--styles-file", "a.csv",
                    "--styles-file", "b/*.csv", "--loglevel", "debug", "--timeout-keep-alive", "5", "-f")
    assert options.device_id == 1 and options.precision == "half" and options.theme == "dark"
    assert options.styles_file == ("a.csv", "b/*.csv")
    assert options.loglevel == "DEBUG" and options.timeout_keep_alive == 5 and options.allow_root


@pytest.mark.parametrize("argv", [("--precision", "fp8"), ("--port", "http"), ("--theme", "blue")])
def test_invalid_values_are_usage_errors(argv):
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse().port = 1


@pytest.mark.parametrize("flag", PROMISED)
def test_promised_flags_are_accepted(flag):
    strings = {s for action in _option_actions() for s in action.option_strings}
    assert flag in strings


def test_every_flag_has_help_text():
    for action in _option_actions():
        assert action.help and action.help.strip() and action.help != "==SUPPRESS==", action.option_strings


def test_every_parser_destination_is_a_launch_options_field():
    destinations = {action.dest for action in _option_actions()}
    assert destinations == {f.name for f in dataclasses.fields(cli.LaunchOptions)} - {"unknown_args"}


def test_offload_flags_say_they_are_not_implemented():
    by_flag = {s: a for a in _option_actions() for s in a.option_strings}
    for flag in ("--medvram", "--medvram-sdxl", "--lowvram"):
        assert "not yet implemented" in by_flag[flag].help
    assert parse("--lowvram").lowvram


def test_help_lists_every_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        parse("--help")
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for action in _option_actions():
        assert action.option_strings[-1] in text
    assert "COMMANDLINE_ARGS" in text


def test_compatibility_warnings_name_no_op_flags():
    options = parse("--share", "--medvram", "--disable-safe-unpickle", "--deepdanbooru")
    notes = " ".join(cli.compatibility_warnings(options))
    for word in ("--share", "--medvram", "not yet implemented", "--disable-safe-unpickle", "--deepdanbooru"):
        assert word in notes
    assert cli.compatibility_warnings(parse("--api")) == []


# launch.py (stdlib-only launcher) -------------------------------------------------------------------------------

def _launch(*argv: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "COMMANDLINE_ARGS": "", **env}
    return subprocess.run([sys.executable, "launch.py", *argv], cwd=REPO, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_launch_exit_after_skipped_install():
    result = _launch("--skip-install", "--exit", COMMANDLINE_ARGS="--api --some-extension-flag")
    assert result.returncode == 0, result.stderr
    assert "Exiting because of --exit argument" in result.stdout
    assert "Installing" not in result.stdout


def test_launch_help_explains_flags():
    result = _launch("--help")
    assert result.returncode == 0
    assert "--skip-install" in result.stdout and "--nowebui" in result.stdout


def test_launch_finds_missing_or_mismatched_requirements(tmp_path):
    import launch

    (tmp_path / "base.txt").write_text("pytest\n", encoding="utf-8")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("# comment\n-r base.txt\n--prefer-binary\n"
                    "pytest==0.0.1\ndefinitely-not-installed-pkg==1.0\npluggy ; python_version >= '3'\n",
                    encoding="utf-8")
    assert launch.missing_requirements(reqs) == ["pytest==0.0.1", "definitely-not-installed-pkg==1.0"]


def test_launch_default_torch_command_depends_on_gpu():
    import launch

    both = f"torch=={launch.TORCH_VERSION} torchvision=={launch.TORCHVISION_VERSION}"
    assert (launch.TORCH_VERSION, launch.TORCHVISION_VERSION) == ("2.14.1", "0.29.1")
    assert launch.default_torch_command(False) == f"pip install {both}"
    cuda = launch.default_torch_command(True)
    assert cuda == f"pip install {both} --extra-index-url https://download.pytorch.org/whl/cu130"
    assert launch.command_argv(cuda)[:3] == [sys.executable, "-m", "pip"]


# webui.sh / webui.bat ---------------------------------------------------------------------------------------------

FAKE_LAUNCH = """import pathlib, sys
runs = pathlib.Path("runs.txt")
with runs.open("a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if len(runs.read_text().splitlines()) == 1:
    pathlib.Path("tmp").mkdir(exist_ok=True)
    pathlib.Path("tmp/restart").touch()
sys.exit(3)
"""


def _webui_sh(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """Run a copy of webui.sh next to a fake launch.py that asks for one restart, then exits with code 3."""
    for name in ("webui.sh", "webui-user.sh"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    (tmp_path / "launch.py").write_text(FAKE_LAUNCH, encoding="utf-8")
    environ = {key: value for key, value in os.environ.items() if key != "CI"}
    environ.update(venv_dir="-", python_cmd=sys.executable, **env)
    return subprocess.run(["bash", str(tmp_path / "webui.sh"), *argv], env=environ, capture_output=True, text=True,
                          timeout=60)


def test_webui_sh_runs_launch_py_again_while_tmp_restart_exists(tmp_path):
    result = _webui_sh(tmp_path, "-f", "--api", "two words", CI="true")
    assert result.returncode == 3, result.stdout + result.stderr
    assert (tmp_path / "runs.txt").read_text().splitlines() == ["-f --api two words"] * 2
    assert "Restarting" in result.stdout


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the root check needs root")
def test_webui_sh_refuses_root_without_f_or_ci(tmp_path):
    result = _webui_sh(tmp_path, "--api")
    assert result.returncode == 1 and "must not be launched as root" in result.stdout
    assert not (tmp_path / "runs.txt").exists()


def test_webui_bat_is_crlf_and_every_goto_has_its_label():
    raw = (REPO / "webui.bat").read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n"), "cmd.exe needs CRLF line endings"
    text = raw.decode("ascii")
    labels = {line.strip()[1:].lower() for line in text.splitlines() if line.startswith(":")}
    targets = {word.lstrip(":").lower() for word in re.findall(r"(?:goto|call) (:\w+)", text, flags=re.I)}
    assert targets <= labels
    assert "launch.py %*" in text and "pause" in text
    user = (REPO / "webui-user.bat").read_bytes()
    assert user.count(b"\n") == user.count(b"\r\n")
