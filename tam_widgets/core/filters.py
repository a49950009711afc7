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

from collections.abc import Callable

import numpy as np
import torch


def _reflect_index(n: int, pad: int, device: torch.device) -> torch.Tensor:
    """Indices of ``range(-pad, n + pad)`` folded back into ``[0, n)`` by reflection."""
    idx = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(idx)
    period = 2 * (n - 1)
    idx = idx.abs() % period
    return torch.where(idx >= n, period - idx, idx)


def windows(x: torch.Tensor, size: int) -> torch.Tensor:
    """All ``size x size`` neighbourhoods of ``x[..., h, w]`` as ``[..., h, w, size * size]``."""
    if x.dim() < 2:
        raise ValueError(f"a filter needs maps shaped [..., h, w], got shape {tuple(x.shape)}")
    pad = size // 2
    h, w = x.shape[-2:]
    padded = x.index_select(-2, _reflect_index(h, pad, x.device))
    padded = padded.index_select(-1, _reflect_index(w, pad, x.device))
    win = padded.unfold(-2, size, 1).unfold(-2, size, 1)
    return win.reshape(*x.shape, size * size)


def rank_gaussian_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """TAM's rank Gaussian filter.

    Each window is sorted; rank ``i`` gets the weight ``exp(-(i - m)^2 / (2 sigma^2))`` (``m``
    the median rank, weights normalised to sum 1) with ``sigma = std / mean`` of the window.
    Unlike the official code it never yields NaN: a constant window keeps its value and an
    all-zero window gives 0.
    """
    win = windows(x, size).sort(dim=-1).values
    compute = win if win.is_floating_point() else win.float()
    mean = compute.mean(-1, keepdim=True)
    std = compute.std(-1, unbiased=False, keepdim=True)
    sigma = (std / mean.abs().clamp_min(1e-12)).clamp_min(1e-6)
    ranks = torch.arange(size * size, device=x.device, dtype=compute.dtype) - (size * size) // 2
    weights = torch.exp(-(ranks**2) / (2 * sigma**2))
    weights = weights / weights.sum(-1, keepdim=True)
    return (compute * weights).sum(-1).to(x.dtype)


def gaussian_filter(x: torch.Tensor, size: int = 3, sigma: float | None = None) -> torch.Tensor:
    """Plain Gaussian blur; ``sigma`` defaults to OpenCV's choice for the kernel size."""
    if sigma is None:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    r = torch.arange(size, device=x.device, dtype=torch.float64) - size // 2
    k1 = torch.exp(-(r**2) / (2 * sigma**2))
    k1 = k1 / k1.sum()
    kernel = torch.outer(k1, k1).reshape(-1).to(x.dtype if x.is_floating_point() else torch.float32)
    return (windows(x, size) * kernel).sum(-1).to(x.dtype)


def median_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """Median of each ``size x size`` window."""
    return windows(x, size).sort(dim=-1).values[..., (size * size) // 2]


def adaptive_median_filter(x: torch.Tensor, max_size: int = 7) -> torch.Tensor:
    """Adaptive median filter: grow the window from 3 until its median is not an extreme.

    A pixel keeps its value when it lies strictly between the window's minimum and maximum, and
    takes the window's median otherwise; at ``max_size`` the median is used.
    """
    out = x.clone()
    undecided = torch.ones_like(x, dtype=torch.bool)
    for size in range(3, max_size + 1, 2):
        win = windows(x, size).sort(dim=-1).values
        lo, med, hi = win[..., 0], win[..., (size * size) // 2], win[..., -1]
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


def apply_filter(x: torch.Tensor, name: str | None) -> torch.Tensor:
    """Apply the filter registered as ``name`` (``None`` or ``"none"`` returns ``x``)."""
    if name is None or name == "none":
        return x
    try:
        fn = FILTERS[name]
    except KeyError:
        raise ValueError(f"unknown filter {name!r}; choose one of {sorted(FILTERS)} or None") from None
    return fn(x)


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
        # The official code squares a numpy scalar, i.e. C pow(); np.power with an array
        # exponent calls pow() too, where ``sigma**2`` on an array would multiply instead.
        weights = np.exp(-((np.arange(9) - 4) ** 2) / (2 * np.power(sigma, np.full_like(sigma, 2))))
        weights = weights / _numpy_sum9(weights)
        out = _numpy_sum9(win * weights)[..., 0]
    out = np.where((mean[..., 0] == 0) | np.isnan(out), 0, out)
    return out.astype(x.dtype)
