"""Helpers for tests and benchmarks: tensor-shape recording and tiny offline models."""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode


class ShapeRecorder(TorchDispatchMode):
    """Record the shape of every tensor each torch operation returns while active.

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
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.shapes.append(tuple(t.shape))
        return out
