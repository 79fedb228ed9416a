"""Pick the device and dtype from the launch options and what the hardware does well."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DevicePolicy:
    """What the user asked for on the command line about devices and precision."""

    force_cpu: bool = False
    no_half: bool = False
    precision: str = "autocast"
    device_id: int | None = None
    xformers: bool = False


def cpu_prefers_bf16() -> bool:
    """Whether this CPU runs bf16 matmuls natively (AMX or AVX512-BF16), where bf16 beats fp32."""
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def choose_device(policy: DevicePolicy) -> torch.device:
    """CUDA (or MPS) when present and not forced off, else the CPU."""
    if not policy.force_cpu and torch.cuda.is_available():
        return torch.device("cuda", policy.device_id or 0)
    if not policy.force_cpu and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def choose_dtype(policy: DevicePolicy, device: torch.device) -> torch.dtype:
    """fp16 on GPUs (bf16 where supported and not asked otherwise), bf16 or fp32 on CPUs, fp32 when asked."""
    if policy.no_half or policy.precision == "full":
        return torch.float32
    if device.type == "cuda":
        return torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if cpu_prefers_bf16() else torch.float32


def use_xformers(policy: DevicePolicy, device: torch.device) -> bool:
    """xformers only when asked for, on CUDA, and installed; PyTorch SDPA otherwise (diffusers' default)."""
    if not policy.xformers or device.type != "cuda":
        return False
    return importlib.util.find_spec("xformers") is not None
