"""Device and dtype choice from the flags."""
from __future__ import annotations

import torch

from modules.adapters.devices import DevicePolicy, choose_device, choose_dtype, cpu_prefers_bf16, use_xformers


def test_use_cpu_all_forces_the_cpu():
    assert choose_device(DevicePolicy(force_cpu=True)).type == "cpu"


def test_full_precision_and_no_half_give_fp32_everywhere():
    for device in (torch.device("cpu"), torch.device("cuda")):
        assert choose_dtype(DevicePolicy(precision="full"), device) is torch.float32
        assert choose_dtype(DevicePolicy(no_half=True), device) is torch.float32


def test_gpu_default_is_fp16_and_cpu_default_follows_native_bf16_support():
    assert choose_dtype(DevicePolicy(), torch.device("cuda")) is torch.float16
    expected = torch.bfloat16 if cpu_prefers_bf16() else torch.float32
    assert choose_dtype(DevicePolicy(), torch.device("cpu")) is expected


def test_xformers_only_on_cuda_when_asked():
    assert not use_xformers(DevicePolicy(xformers=True), torch.device("cpu"))
    assert not use_xformers(DevicePolicy(xformers=False), torch.device("cuda"))
