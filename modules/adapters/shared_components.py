"""Hold a component once when several cached checkpoints carry the very same weights (a VAE or text encoder).

Many checkpoints are fine-tunes or merges that keep their base model's VAE and text encoders. A freshly built
component is compared with the matching component of every other loaded checkpoint, tensor by tensor with
exact equality (no hash, so no collision can ever share two different models); when one is equal, the new
pipeline uses the existing module and the duplicate is freed. The comparison stops at the first differing
tensor, so unrelated models cost almost nothing.

Sharing is safe because a checkpoint's in-place changes (merged LoRAs, textual-inversion tokens) are undone when
it is parked (see ``DiffusersBackend.park``): only the active checkpoint ever holds them.
"""
from __future__ import annotations

import weakref

import torch

SHAREABLE = ("vae", "text_encoder", "text_encoder_2")


class ComponentPool:
    """The loaded handles whose components new checkpoints may share."""

    def __init__(self) -> None:
        self._handles: weakref.WeakSet = weakref.WeakSet()

    def adopt(self, handle) -> list[str]:
        """Swap ``handle``'s components for identical ones already loaded; return the names shared."""
        shared = []
        for name in SHAREABLE:
            new = _own(handle, name)
            if new is None:
                continue
            for other in list(self._handles):
                existing = _own(other, name)
                if existing is not None and existing is not new and same_weights(new, existing):
                    _use(handle, name, existing)
                    shared.append(name)
                    break
        self._handles.add(handle)
        return shared

    def forget(self, handle) -> None:
        """``handle`` is being unloaded."""
        self._handles.discard(handle)


def _own(handle, name: str):
    if handle.pipe is None:
        return None
    return handle.own_vae if name == "vae" else getattr(handle.pipe, name, None)


def _use(handle, name: str, module) -> None:
    if name == "vae":
        if handle.pipe.vae is handle.own_vae:
            handle.pipe.vae = module
        handle.own_vae = module
    else:
        setattr(handle.pipe, name, module)


@torch.no_grad()
def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """Whether two modules are of one class and hold bit-identical tensors under the same names."""
    if type(a) is not type(b):
        return False
    first, second = a.state_dict(), b.state_dict()
    if first.keys() != second.keys():
        return False
    for key, tensor in first.items():
        other = second[key]
        if tensor.shape != other.shape or tensor.dtype != other.dtype or tensor.device != other.device:
            return False
        if not torch.equal(tensor, other):
            return False
    return True
