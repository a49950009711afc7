"""Helpers for tests and benchmarks: tensor-shape recording and tiny offline models."""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from .tiny import FAMILIES, tiny_model  # cheap: transformers is only imported when a model is built

__all__ = ["FAMILIES", "ShapeRecorder", "tiny_model"]


class ShapeRecorder(TorchDispatchMode):
    """Record the shape of every new tensor torch operations allocate while active.

    Views and in-place results (outputs that share storage with an input) are not allocations
    and are left out.

    >>> import torch
    >>> with ShapeRecorder() as rec:
    ...     _ = torch.ones(2, 3) @ torch.ones(3, 4)
    >>> (2, 4) in rec.shapes
    True
    """

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        inputs = {
            a.untyped_storage().data_ptr()
            for a in tree_flatten((args, kwargs or {}))[0]
            if isinstance(a, torch.Tensor) and a.device.type != "meta"
        }
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in inputs:
                self.shapes.append(tuple(t.shape))
        return out
