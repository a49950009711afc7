"""Denoising filters for activation maps, batched over ``[..., h, w]``.

``rank_gaussian`` is TAM's rank Gaussian filter; ``gaussian``, ``median`` and
``adaptive_median`` are the alternatives the paper compares it with (Table 2). All pad with
reflection (numpy's ``reflect`` mode, OpenCV's ``BORDER_REFLECT_101``) and keep the input's
shape, dtype and device.

>>> import torch
>>> x = torch.rand(5, 24, 32)
>>> apply_filter(x, "rank_gaussian").shape
torch.Size([5, 24, 32])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F


def _reflect_index(n: int, pad: int, device: torch.device) -> torch.Tensor:
    """Indices of ``range(-pad, n + pad)`` folded back into ``[0, n)`` by reflection."""
    idx = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(idx)
    period = 2 * (n - 1)
    idx = idx.abs() % period
    return torch.where(idx >= n, period - idx, idx)


def _padded(x: torch.Tensor, pad: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    if h > pad and w > pad and x.is_floating_point():
        flat = x.reshape(-1, 1, h, w)
        return F.pad(flat, (pad, pad, pad, pad), mode="reflect").reshape(*x.shape[:-2], h + 2 * pad, w + 2 * pad)
    padded = x.index_select(-2, _reflect_index(h, pad, x.device))
    return padded.index_select(-1, _reflect_index(w, pad, x.device))


def _window_rows(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    if x.dim() < 2:
        raise ValueError(f"a filter needs maps shaped [..., h, w], got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    padded = _padded(x, size // 2)
    return [padded[..., i : i + h, j : j + w] for i in range(size) for j in range(size)]


def windows(x: torch.Tensor, size: int) -> torch.Tensor:
    """All ``size x size`` neighbourhoods of ``x[..., h, w]``, stacked first: ``[size * size, ..., h, w]``.

    Entry ``k`` holds, for every pixel, the neighbour at row offset ``k // size`` and column
    offset ``k % size`` (top-left first). The window-first layout keeps every later step an
    element-wise operation over whole maps, which is what makes the filters fast on the CPU.
    """
    return torch.stack(_window_rows(x, size))


# An optimal 25-comparator sorting network for 9 values (checked on all 0/1 inputs in the tests).
SORT9 = (
    (0, 3),
    (1, 7),
    (2, 5),
    (4, 8),
    (0, 7),
    (2, 4),
    (3, 8),
    (5, 6),
    (0, 2),
    (1, 3),
    (4, 5),
    (7, 8),
    (1, 4),
    (3, 6),
    (5, 7),
    (0, 1),
    (2, 4),
    (3, 5),
    (6, 8),
    (2, 3),
    (4, 5),
    (6, 7),
    (1, 2),
    (3, 4),
    (5, 6),
)


def _sorted_rows(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    if size != 3:
        return list(windows(x, size).sort(dim=0).values.unbind(0))
    rows = [r.clone(memory_format=torch.contiguous_format) for r in _window_rows(x, size)]
    spare = torch.empty_like(rows[0])
    for i, j in SORT9:
        torch.minimum(rows[i], rows[j], out=spare)
        torch.maximum(rows[i], rows[j], out=rows[j])
        rows[i], spare = spare, rows[i]
    return rows


def sorted_windows(x: torch.Tensor, size: int) -> torch.Tensor:
    """:func:`windows` sorted along the window axis (ascending)."""
    return torch.stack(_sorted_rows(x, size))


def rank_gaussian_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """TAM's rank Gaussian filter.

    Each window is sorted; rank ``i`` gets the weight ``exp(-(i - m)^2 / (2 sigma^2))`` (``m``
    the median rank, weights normalised to sum 1) with ``sigma = std / mean`` of the window.
    Unlike the official code it never yields NaN: a constant window keeps its value and an
    all-zero window gives 0.

    >>> import torch
    >>> x = torch.zeros(1, 5, 5); x[0, 2, 2] = 1.0  # one isolated hot pixel
    >>> float(rank_gaussian_filter(x)[0, 2, 2]) < 0.5  # is smoothed away
    True
    """
    rows = _sorted_rows(x if x.is_floating_point() else x.float(), size)
    n, half = len(rows), len(rows) // 2
    mean, sq = rows[0].clone(), rows[0].square()
    for r in rows[1:]:
        mean.add_(r)
        sq.addcmul_(r, r)
    mean.div_(n)
    var = sq.div_(n).sub_(mean.square()).clamp_min_(0)
    # sigma = std / mean, and w_k = exp(-k^2 / (2 sigma^2)) = exp(-k^2 mean^2 / (2 var)) for rank
    # distance k from the median; sigma is floored at 1e-6 (a constant window keeps its median).
    neg_inv = mean.square().div_(var.clamp_min_(1e-12 * mean.square().clamp_min(1e-30))).mul_(-0.5)
    out, norm = rows[half].clone(), torch.ones_like(mean)
    for k in range(1, half + 1):
        w_k = (neg_inv * (k * k)).clamp_min_(-80.0).exp_()  # no denormals: they are slow
        out.addcmul_(w_k, rows[half - k] + rows[half + k])
        norm.add_(w_k, alpha=2)
    return out.div_(norm).to(x.dtype)


def gaussian_filter(x: torch.Tensor, size: int = 3, sigma: float | None = None) -> torch.Tensor:
    """Plain Gaussian blur; ``sigma`` defaults to OpenCV's choice for the kernel size."""
    if sigma is None:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    r = torch.arange(size, device=x.device, dtype=torch.float64) - size // 2
    k1 = torch.exp(-(r**2) / (2 * sigma**2))
    k1 = k1 / k1.sum()
    kernel = torch.outer(k1, k1).reshape(-1).to(x.dtype if x.is_floating_point() else torch.float32)
    win = windows(x if x.is_floating_point() else x.float(), size)
    return (win * kernel.reshape(-1, *([1] * x.dim()))).sum(0).to(x.dtype)


def median_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """Median of each ``size x size`` window."""
    return sorted_windows(x, size)[(size * size) // 2]


def adaptive_median_filter(x: torch.Tensor, max_size: int = 7) -> torch.Tensor:
    """Adaptive median filter: grow the window from 3 until its median is not an extreme.

    A pixel keeps its value when it lies strictly between the window's minimum and maximum, and
    takes the window's median otherwise; at ``max_size`` the median is used.
    """
    out = x.clone()
    undecided = torch.ones_like(x, dtype=torch.bool)
    for size in range(3, max_size + 1, 2):
        win = sorted_windows(x, size)
        lo, med, hi = win[0], win[(size * size) // 2], win[-1]
        ok = (lo < med) & (med < hi)
        keep = (lo < x) & (x < hi)
        decide = undecided & ok
        out = torch.where(decide, torch.where(keep, x, med), out)
        undecided = undecided & ~ok
        if size + 2 > max_size:
            out = torch.where(undecided, med, out)
    return out


FILTERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "rank_gaussian": rank_gaussian_filter,
    "gaussian": gaussian_filter,
    "median": median_filter,
    "adaptive_median": adaptive_median_filter,
}
"""The denoising filters by name (``filter=`` of :func:`~tam_widgets.core.tam_from_logits`); each maps
``[..., h, w]`` to the same shape.

>>> sorted(FILTERS)
['adaptive_median', 'gaussian', 'median', 'rank_gaussian']
"""


def apply_filter(x: torch.Tensor, name: str | None) -> torch.Tensor:
    """Apply the filter registered as ``name`` (``None`` or ``"none"`` returns ``x``).

    >>> import torch
    >>> apply_filter(torch.rand(2, 5, 5), "median").shape
    torch.Size([2, 5, 5])
    """
    if name is None or name == "none":
        return x
    try:
        fn = FILTERS[name]
    except KeyError:
        raise ValueError(f"unknown filter {name!r}; choose one of {sorted(FILTERS)} or None") from None
    return fn(x)


#: The C library's exp and pow, element by element (numpy's own kernels vary with the CPU).
_C_EXP = np.frompyfunc(math.exp, 1, 1)
_C_POW = np.frompyfunc(math.pow, 2, 1)


def _numpy_sum9(x: np.ndarray) -> np.ndarray:
    """Sum over a last axis of 9 in the order numpy's pairwise sum uses for a 1-D array of 9."""
    c = [x[..., i : i + 1] for i in range(9)]
    return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7])) + c[8]


def rank_gaussian_filter_reference(x: np.ndarray) -> np.ndarray:
    """The official code's 3x3 rank Gaussian filter, arithmetic for arithmetic (numpy).

    Used by ``compat="reference"``. The official code filters pixel by pixel; this batched form
    repeats its floating-point operations in the same order (``np.mean``, ``np.std`` and
    ``np.sum`` of each 9-value window), keeps the input dtype, and, like the official code,
    gives 0 where the window's mean is 0 or its weights are NaN (a constant window).
    """
    h, w = x.shape[-2:]
    pad = [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)]
    p = np.pad(x, pad, mode="reflect")
    win = np.stack([p[..., i : i + h, j : j + w] for i in range(3) for j in range(3)], -1)
    win = np.sort(win, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = _numpy_sum9(win) / 9
        dev = win - mean
        sigma = np.sqrt(_numpy_sum9(dev * dev) / 9) / mean
        # The official code squares a numpy scalar with C pow() and calls np.exp on 9 values, which
        # on the machine that made the golden fixtures gave the C library's results; numpy's
        # vectorised pow/exp kernels (AVX2, AVX-512) differ by a few ulp on other CPUs, so both
        # go through the C library here, the same on every CPU.
        arg = -((np.arange(5) - 4) ** 2) / (2 * _C_POW(sigma, 2.0).astype(sigma.dtype))  # ranks 0..4
        half = _C_EXP(arg).astype(np.float64)  # ranks 5..8 mirror ranks 3..0
        weights = np.concatenate([half, half[..., 3::-1]], -1)
        weights = weights / _numpy_sum9(weights)
        out = _numpy_sum9(win * weights)[..., 0]
    out = np.where((mean[..., 0] == 0) | np.isnan(out), 0, out)
    return out.astype(x.dtype)
