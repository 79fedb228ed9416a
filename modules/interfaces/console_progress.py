"""A tqdm bar on the console for each batch of the running job, as A1111 prints one per sampling run."""
from __future__ import annotations

import sys

from tqdm import tqdm

from modules.core.progress import ProgressSnapshot


class ConsoleProgress:
    """A `ProgressTracker` listener: one bar per (job, batch), advanced as steps are reported."""

    def __init__(self, stream=sys.stderr) -> None:
        self._stream = stream
        self._bar: tqdm | None = None
        self._key: tuple | None = None

    def __call__(self, snap: ProgressSnapshot) -> None:
        """Show `snap`: open a bar when a batch starts, advance it, close it when the job ends."""
        if not snap.job_count or not snap.sampling_steps:
            self._close()
            return
        key = (snap.job, snap.job_timestamp, snap.job_no, snap.sampling_steps)
        if key != self._key:
            self._close()
            batch = f" {snap.job_no + 1}/{snap.job_count}" if snap.job_count > 1 else ""
            self._bar = tqdm(total=snap.sampling_steps, desc=f"{snap.job}{batch}", unit="it", file=self._stream,
                             dynamic_ncols=True)
            self._key = key
        if self._bar is not None and snap.sampling_step > self._bar.n:
            self._bar.update(snap.sampling_step - self._bar.n)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._key = None, None
