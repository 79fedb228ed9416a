"""The CUDA memory probe bootstrap hands to ``GET /sdapi/v1/memory``."""
from __future__ import annotations

import torch

from modules.adapters.memory_stats import cuda_memory


def test_cuda_memory_shape():
    stats = cuda_memory()
    if not torch.cuda.is_available():
        assert stats == {"error": "unavailable"}
    else:
        assert set(stats) == {"system", "active", "allocated", "reserved", "inactive", "events"}
        assert stats["system"]["total"] >= stats["system"]["free"]
