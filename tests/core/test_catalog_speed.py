"""Listing many large checkpoints is fast because the catalog reads directory entries only, never file contents."""
from __future__ import annotations

import time

from modules.core.hashes import HashCache
from modules.core.model_catalog import ModelCatalog

FILES = 200
SIZE = 2_000_000_000  # sparse: no disk space used, but hashing one would take seconds


def _sparse_checkpoints(root, count: int) -> None:
    for i in range(count):
        folder = root / f"family{i % 5}" / f"batch{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"model{i:03d}.safetensors", "wb") as stream:
            stream.truncate(SIZE)


def test_listing_200_large_checkpoints_hashes_nothing_and_is_fast(tmp_path):
    root, cache_file = tmp_path / "Stable-diffusion", tmp_path / "cache" / "hashes.json"
    _sparse_checkpoints(root, FILES)
    start = time.perf_counter()
    catalog = ModelCatalog((root,), HashCache(cache_file))
    constructed = time.perf_counter() - start
    start = time.perf_counter()
    records = catalog.refresh()
    refreshed = time.perf_counter() - start
    print(f"\nModelCatalog over {FILES} sparse 2 GB checkpoints: construct {constructed * 1000:.1f} ms, "
          f"refresh {refreshed * 1000:.1f} ms")
    assert len(records) == FILES and len({r.path for r in records}) == FILES
    assert all(r.sha256 is None and r.size == SIZE for r in records)
    assert [r.name for r in records] == sorted((r.name for r in records), key=str.lower)
    assert not cache_file.exists()
    assert refreshed < 5 and constructed < 5  # a guard only; the target is < 1 s
