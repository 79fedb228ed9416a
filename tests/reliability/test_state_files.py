"""Case 20: a process killed while it saves settings leaves the old or the new ``config.json`` (never a partial one),
and the next start reads it; corrupt files are moved aside (tests/core/test_settings.py, test_ui_config.py and
test_hashes.py cover empty, truncated, non-JSON and wrongly typed files)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from modules.core.settings import SettingsStore
from tests.conftest import REPO

SAVER = """
import sys
from pathlib import Path
from modules.core.settings import SettingsStore
store = SettingsStore(Path(sys.argv[1]))
n = 0
print("ready", flush=True)
while True:
    n += 1
    store.update({"default_steps": 1 + n % 150, "samples_filename_pattern": "[seed]-" + "x" * (n % 5000)})
"""


def test_killing_the_process_mid_save_never_leaves_a_partial_config(tmp_path):
    """Case 20: SIGKILL at random moments of a save loop, eight times: the file always parses with a value the
    loop wrote, and the next SettingsStore starts from it without moving it aside."""
    path = tmp_path / "config.json"
    rng = random.Random(20)
    seen = set()
    for _ in range(8):
        process = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], cwd=REPO, stdout=subprocess.PIPE,
                                   env={**os.environ, "PYTHONPATH": str(REPO)})
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        data = json.loads(path.read_text(encoding="utf-8"))  # never partial
        assert 1 <= data["default_steps"] <= 150
        seen.add(data["default_steps"])
        store = SettingsStore(path)
        assert store.current().get("default_steps") == data["default_steps"]
        assert path.exists(), "a good file was moved aside"
    assert len(seen) > 1, "the loop should have saved different values between kills"
