"""Class scores: the LM head's score of a few classes at every position, never ``[L, V]``.

A *score source* answers three questions: the ``[L, n]`` scores of ``n`` classes at every
position (``columns``; ``class_rows`` gives the same transposed, ``[n, L]``, contiguous and in
float32 or float64), and the full score row of one position (``row``, only for an argmax).
:class:`LogitScores` reads them from logits the caller already has; :class:`HiddenScores`
computes them from last-layer hidden states by gathering the ``n`` rows of the LM head.

>>> import torch
>>> hidden, weight = torch.randn(10, 8), torch.randn(1000, 8)
>>> class_scores(hidden, weight, torch.tensor([5, 7])).shape
torch.Size([10, 2])
"""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def as_tensor(x: ArrayLike, name: str) -> torch.Tensor:
    """``x`` as a torch tensor (detached: TAM needs no gradients) without copying numpy data."""
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    try:
        return torch.as_tensor(x)
    except Exception as exc:
        raise ValueError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}") from exc


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def class_scores(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    class_ids: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    by_class: bool = False,
) -> torch.Tensor:
    """Scores ``[L, n]`` of ``class_ids`` at every position: ``hidden @ weight[class_ids].T``.

    Only the ``n`` rows of the LM head are gathered. Computed in float32 (float64 for float64
    inputs) whatever the model's dtype. ``by_class=True`` returns ``[n, L]`` instead.

    >>> import torch
    >>> hidden, weight = torch.randn(7, 16), torch.randn(100, 16)  # 7 positions, a 100-word vocabulary
    >>> class_scores(hidden, weight, torch.tensor([3, 42])).shape
    torch.Size([7, 2])
    """
    dtype = _compute_dtype(hidden.dtype)
    rows = weight.index_select(0, class_ids.to(weight.device)).to(hidden.device, dtype)
    out = rows @ hidden.to(dtype).T if by_class else hidden.to(dtype) @ rows.T
    if bias is not None:
        b = bias.index_select(0, class_ids.to(bias.device)).to(hidden.device, dtype)
        out += b[:, None] if by_class else b
    return out


class LogitScores:
    """Scores read from precomputed logits ``[L, V]`` (numpy or torch)."""

    def __init__(self, logits: ArrayLike):
        self.logits = as_tensor(logits, "logits")
        if self.logits.dim() != 2:
            raise ValueError(f"logits must be [L, V], got shape {tuple(self.logits.shape)}")
        self.length, self.vocab_size = self.logits.shape
        self.device = self.logits.device

    def columns(self, class_ids: torch.Tensor) -> torch.Tensor:
        return self.logits.index_select(1, class_ids.to(self.device))

    def class_rows(self, class_ids: torch.Tensor) -> torch.Tensor:
        cols = self.columns(class_ids)
        return cols.T.to(_compute_dtype(cols.dtype), memory_format=torch.contiguous_format)

    def row(self, position: int) -> torch.Tensor:
        return self.logits[position]


class HiddenScores:
    """Scores computed from hidden states ``[L, d]`` and the LM head ``weight [V, d]`` (+ bias)."""

    def __init__(self, hidden: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None):
        self.hidden = as_tensor(hidden, "hidden")
        self.weight = as_tensor(weight, "lm_head_weight")
        self.bias = None if bias is None else as_tensor(bias, "lm_head_bias")
        if self.hidden.dim() != 2 or self.weight.dim() != 2:
            raise ValueError(
                f"hidden must be [L, d] and lm_head_weight [V, d], got {tuple(self.hidden.shape)} "
                f"and {tuple(self.weight.shape)}"
            )
        if self.hidden.shape[1] != self.weight.shape[1]:
            raise ValueError(
                f"hidden size mismatch: hidden is {tuple(self.hidden.shape)} but lm_head_weight is "
                f"{tuple(self.weight.shape)}; both need the same last dimension d"
            )
        if self.bias is not None and tuple(self.bias.shape) != (self.weight.shape[0],):
            raise ValueError(f"lm_head_bias must be [V] = [{self.weight.shape[0]}], got {tuple(self.bias.shape)}")
        self.length = self.hidden.shape[0]
        self.vocab_size = self.weight.shape[0]
        self.device = self.hidden.device

    def columns(self, class_ids: torch.Tensor) -> torch.Tensor:
        return class_scores(self.hidden, self.weight, class_ids, self.bias)

    def class_rows(self, class_ids: torch.Tensor) -> torch.Tensor:
        return class_scores(self.hidden, self.weight, class_ids, self.bias, by_class=True)

    def row(self, position: int) -> torch.Tensor:
        h = self.hidden[position].to(self.weight.device, self.weight.dtype)
        out = (self.weight @ h).float()
        return out if self.bias is None else out + self.bias.float()
