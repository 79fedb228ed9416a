#!/bin/bash
#########################################################
# Uncomment and change the variables below to your need:#
#########################################################

# Commandline arguments for webui.py, for example: export COMMANDLINE_ARGS="--listen --api --data-dir /srv/sd"
#export COMMANDLINE_ARGS=""

# python3 executable (Python 3.10-3.12)
#python_cmd="python3"

# python3 venv without trailing slash (default: venv next to webui.sh; "-" runs without a venv)
#venv_dir="venv"

# Command that installs torch and torchvision (default: CUDA 13.0 builds when nvidia-smi works, else PyPI's;
# cu126 instead of cu130 for GPUs older than Turing or drivers older than 580)
#export TORCH_COMMAND="pip install torch==2.14.1 torchvision==0.29.1 --extra-index-url https://download.pytorch.org/whl/cu130"

# Requirements file to use for stable-diffusion-webui
#export REQS_FILE="requirements.txt"

###########################################
