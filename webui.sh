#!/usr/bin/env bash
#################################################
# Please do not make any changes to this file,  #
# change the variables in webui-user.sh instead #
#################################################
# Linux/macOS launcher: finds Python 3.10-3.12, creates/activates the venv, runs launch.py "$@"
# (which installs what is missing, then starts the web UI) and starts it again while tmp/restart exists.
# Flags: see `./webui.sh --help`. Running as root needs -f (or the CI environment variable).

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
cd "${SCRIPT_DIR}" || exit 1

can_run_as_root=0
skip_python_check=0
for arg in "$@"; do
    case "${arg}" in
        -f) can_run_as_root=1 ;;
        --skip-python-version-check) skip_python_check=1 ;;
    esac
done
if [[ -n "${CI:-}" ]]; then
    can_run_as_root=1
fi
if [[ $(id -u) -eq 0 && ${can_run_as_root} -eq 0 ]]; then
    echo "ERROR: This script must not be launched as root, aborting..."
    echo "(pass -f to run as root anyway)"
    exit 1
fi

if [[ "${OSTYPE:-}" == darwin* ]]; then
    # Apple silicon: no CUDA, fp16 VAE overflows, unsupported MPS ops fall back to the CPU.
    export PYTORCH_ENABLE_MPS_FALLBACK=1
    if [[ -z "${COMMANDLINE_ARGS+set}" ]]; then
        export COMMANDLINE_ARGS="--skip-torch-cuda-test --upcast-sampling --no-half-vae --use-cpu interrogate"
    fi
fi

if [[ -f "${SCRIPT_DIR}/webui-user.sh" ]]; then
    # shellcheck source=webui-user.sh
    source "${SCRIPT_DIR}/webui-user.sh"
fi
venv_dir="${venv_dir:-venv}"
export SD_WEBUI_RESTART=tmp/restart

python_supported() {
    "$1" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)' >/dev/null 2>&1
}

if [[ -n "${python_cmd:-}" ]]; then
    if ! "${python_cmd}" -c '' >/dev/null 2>&1; then
        echo "ERROR: python_cmd=${python_cmd} cannot be run; fix it in webui-user.sh"
        exit 1
    fi
    python_supported "${python_cmd}" || echo "WARNING: ${python_cmd} is not Python 3.10-3.12; continuing as asked"
else
    for candidate in python3 python3.12 python3.11 python3.10 python; do
        if command -v "${candidate}" >/dev/null 2>&1 && { [[ ${skip_python_check} -eq 1 ]] || python_supported "${candidate}"; }; then
            python_cmd="${candidate}"
            break
        fi
    done
    if [[ -z "${python_cmd:-}" ]]; then
        echo "ERROR: Python 3.10, 3.11 or 3.12 is needed and none was found on PATH."
        echo "Install one (for example: sudo apt install python3.11 python3.11-venv), or set python_cmd in webui-user.sh."
        exit 1
    fi
fi

if [[ "${venv_dir}" != "-" ]]; then
    if [[ ! -f "${venv_dir}/bin/activate" ]]; then
        echo "Creating python venv in ${venv_dir} with $("${python_cmd}" --version 2>&1)"
        if ! "${python_cmd}" -m venv "${venv_dir}"; then
            echo "ERROR: Cannot create venv in ${venv_dir} (Debian/Ubuntu: sudo apt install python3-venv)"
            exit 1
        fi
    fi
    # shellcheck source=/dev/null
    if ! source "${venv_dir}/bin/activate"; then
        echo "ERROR: Cannot activate python venv ${venv_dir}, aborting..."
        exit 1
    fi
    python_cmd="${VIRTUAL_ENV}/bin/python"
    echo "Using venv ${VIRTUAL_ENV}"
fi

while true; do
    rm -f tmp/restart
    "${python_cmd}" -u launch.py "$@"
    status=$?
    if [[ ! -f tmp/restart ]]; then
        exit ${status}
    fi
    echo "Restarting..."
done
