@echo off

rem PYTHON: python.exe to use (3.10-3.12); empty = find "python" or the "py" launcher.
rem VENV_DIR: empty = "venv" next to webui.bat; "-" = no venv.
rem COMMANDLINE_ARGS: flags for the web UI, for example --api --listen --data-dir D:\sd-data
rem TORCH_COMMAND (optional): how to install torch and torchvision, for example (cu126 for older GPUs or drivers)
rem   set TORCH_COMMAND=pip install torch==2.14.1 torchvision==0.29.1 --extra-index-url https://download.pytorch.org/whl/cu130

set PYTHON=
set GIT=
set VENV_DIR=
set COMMANDLINE_ARGS=

call "%~dp0webui.bat" %*
