#!/usr/bin/env bash
# Run the test suite: builds .ci/venv (reused when present) with torch, torchvision and the pinned test requirements,
# then runs `python -m pytest -q` offline. Extra arguments go to pytest (e.g. ./run-tests.sh tests/core).
# A non-zero pytest exit (including 5, "no tests collected") fails the run.
set -euo pipefail
cd "$(dirname "$0")"

venv=.ci/venv
[[ -x "${venv}/bin/python" ]] || python3 -m venv "${venv}"
export PATH="${PWD}/${venv}/bin:${PATH}"

# A CPU-capable torch build is enough for the tests (TORCH_COMMAND overrides, as for the app). torchvision comes
# in the same command, so pip takes the build made for this torch (spandrel imports it).
${TORCH_COMMAND:-python -m pip install --quiet torch==2.14.1 torchvision==0.29.1}
python -m pip install --quiet -r requirements-test.txt

# The browser test uses Debian's Chromium and skips itself when it is missing.
if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || echo "WARNING: could not install chromium; the browser test will be skipped" >&2
fi

export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
python -m pytest -q --durations=25 "$@"
