"""CUDA memory figures for ``GET /sdapi/v1/memory`` (bootstrap passes `cuda_memory` to the API router)."""
from __future__ import annotations

from typing import Any

import torch


def cuda_memory() -> dict[str, Any]:
    """A1111's ``cuda`` block (bytes): system free/used/total and the allocator's current/peak figures."""
    if not torch.cuda.is_available():
        return {"error": "unavailable"}
    free, total = torch.cuda.mem_get_info()
    stats = torch.cuda.memory_stats()

    def pair(name: str) -> dict[str, int]:
        return {"current": int(stats.get(f"{name}.all.current", 0)), "peak": int(stats.get(f"{name}.all.peak", 0))}

    return {"system": {"free": free, "used": total - free, "total": total},
            "active": pair("active_bytes"), "allocated": pair("allocated_bytes"),
            "reserved": pair("reserved_bytes"), "inactive": pair("inactive_split_bytes"),
            "events": {"retries": int(stats.get("num_alloc_retries", 0)), "oom": int(stats.get("num_ooms", 0))}}
