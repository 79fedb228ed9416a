"""Acceptance 3 in short: the soak of bench/soak.py with 40 mixed requests (valid, invalid, oversized,
interrupted, model switches, an injected OOM and a NaN checkpoint) ends with the server healthy, every valid
request answered correctly, no temp file left and RSS within 10% of its value after warm-up."""
from __future__ import annotations

from bench.soak import KINDS, run_soak


def test_short_soak_with_injected_faults(tmp_path):
    report = run_soak(40, seed=3, data_root=tmp_path)
    print("\n".join(report.lines()))
    assert set(report.counts) == set(KINDS), report.counts
    assert not report.failures, report.failures
    assert report.healthy and not report.orphans
    assert report.ok, report.lines()
