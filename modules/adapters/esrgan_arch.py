"""The ESRGAN network (RRDBNet) for the original ESRGAN and Real-ESRGAN key layouts, built from a state dict."""
from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn import functional as F

from modules.core.errors import UnsupportedModel

StateDict = dict[str, torch.Tensor]
_OLD_BODY = re.compile(r"^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$")
_OLD_TRUNK = re.compile(r"^model\.1\.sub\.(\d+)\.(weight|bias)$")
_OLD_TOP = re.compile(r"^model\.(\d+)\.(weight|bias)$")


def is_esrgan(state_dict: StateDict) -> bool:
    """Whether the keys are those of an ESRGAN / Real-ESRGAN RRDBNet (either naming)."""
    return ("conv_first.weight" in state_dict and "body.0.rdb1.conv1.weight" in state_dict) or (
        "model.0.weight" in state_dict and "model.1.sub.0.RDB1.conv1.0.weight" in state_dict)


def to_new_layout(state_dict: StateDict) -> StateDict:
    """Rename the original ESRGAN keys (``model.N…``) to Real-ESRGAN's names; new-layout dicts pass through."""
    if "conv_first.weight" in state_dict:
        return dict(state_dict)
    renamed: StateDict = {}
    top: dict[int, dict[str, torch.Tensor]] = {}
    trunk_index = max((int(m.group(1)) for k in state_dict if (m := _OLD_TRUNK.match(k))), default=None)
    for key, value in state_dict.items():
        if m := _OLD_BODY.match(key):
            renamed[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = value
        elif (m := _OLD_TRUNK.match(key)) and int(m.group(1)) == trunk_index:
            renamed[f"conv_body.{m.group(2)}"] = value
        elif m := _OLD_TOP.match(key):
            top.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if 0 not in top or len(top) < 3:
        raise UnsupportedModel("ESRGAN file: missing first or last convolutions")
    tail = sorted(i for i in top if i > 1)
    names = [f"conv_up{n + 1}" for n in range(len(tail) - 2)] + ["conv_hr", "conv_last"]
    for name, index in [("conv_first", 0), *zip(names, tail)]:
        for param, value in top[index].items():
            renamed[f"{name}.{param}"] = value
    return renamed


class _DenseBlock(nn.Module):
    """Five 3×3 convolutions, each seeing every earlier output; residual scaled by 0.2."""

    def __init__(self, features: int, growth: int):
        super().__init__()
        for i in range(5):
            out = features if i == 4 else growth
            setattr(self, f"conv{i + 1}", nn.Conv2d(features + i * growth, out, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Dense convolutions with a scaled residual."""
        outputs = [x]
        for i in range(1, 5):
            outputs.append(F.leaky_relu(getattr(self, f"conv{i}")(torch.cat(outputs, 1)), 0.2))
        return self.conv5(torch.cat(outputs, 1)) * 0.2 + x


class _ResidualInResidual(nn.Module):
    """Three dense blocks in a row with a scaled residual (the "RRDB")."""

    def __init__(self, features: int, growth: int):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = (_DenseBlock(features, growth) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Three dense blocks with a scaled residual."""
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """ESRGAN generator; ``unshuffle`` > 1 is Real-ESRGAN's trick for ×2 and ×1 models."""

    def __init__(self, *, in_channels: int, out_channels: int, features: int, growth: int, blocks: int,
                 upsamples: int, unshuffle: int = 1):
        super().__init__()
        self.unshuffle = unshuffle
        self.scale = 2 ** upsamples // unshuffle
        self.conv_first = nn.Conv2d(in_channels * unshuffle ** 2, features, 3, 1, 1)
        self.body = nn.Sequential(*(_ResidualInResidual(features, growth) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(features, features, 3, 1, 1)
        self.upsamples = upsamples
        for n in range(upsamples):
            setattr(self, f"conv_up{n + 1}", nn.Conv2d(features, features, 3, 1, 1))
        self.conv_hr = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_last = nn.Conv2d(features, out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Image batch in [0, 1] → image batch ``scale`` times larger (not clamped)."""
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for n in range(self.upsamples):
            feat = F.interpolate(feat, scale_factor=2, mode="nearest")
            feat = F.leaky_relu(getattr(self, f"conv_up{n + 1}")(feat), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))


def build_rrdbnet(state_dict: StateDict) -> RRDBNet:
    """Infer the network's size from the tensors, build it and load the weights (strictly)."""
    sd = to_new_layout(state_dict)
    first, last = sd["conv_first.weight"], sd.get("conv_last.weight")
    if last is None or first.ndim != 4:
        raise UnsupportedModel("ESRGAN file: unexpected tensor shapes")
    out_channels = last.shape[0]
    unshuffle = math.isqrt(first.shape[1] // out_channels) if first.shape[1] % out_channels == 0 else 0
    if unshuffle not in (1, 2, 4) or out_channels * unshuffle ** 2 != first.shape[1]:
        raise UnsupportedModel(f"ESRGAN file: {first.shape[1]} input channels is not a supported layout")
    blocks = len({k.split(".")[1] for k in sd if k.startswith("body.")})
    upsamples = sum(1 for k in sd if re.fullmatch(r"conv_up\d+\.weight", k))
    net = RRDBNet(in_channels=out_channels, out_channels=out_channels, features=first.shape[0],
                  growth=sd["body.0.rdb1.conv1.weight"].shape[0], blocks=blocks, upsamples=upsamples,
                  unshuffle=unshuffle)
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        raise UnsupportedModel(f"ESRGAN file: weights do not fit the network ({exc})") from exc
    if net.scale < 1:
        raise UnsupportedModel("ESRGAN file: the network would shrink images")
    return net.eval()
