"""Estimated causal inference (ECI): remove what earlier context tokens leak into a map.

For an explained token with raw map ``a`` (its class activation over the visual tokens), the
interference is the relevance-weighted mean ``I`` of the context tokens' raw maps, and the
result is ``ReLU(a - s I)`` with the least-squares scale ``s = <a, I> / <I, I>``. All tokens are
handled at once: the weights form one masked, row-normalised ``[n, n_ctx]`` matrix.

>>> import torch
>>> a = torch.tensor([[1.0, 0.0]]); ctx = torch.tensor([[1.0, 1.0]])
>>> maps, s = eci(a, ctx, relevance=torch.ones(1, 1), usable=torch.ones(1, 1, dtype=torch.bool))
>>> maps, s
(tensor([[0.5000, 0.0000]]), tensor([0.5000]))
"""

from __future__ import annotations

import torch

VARIANTS = ("ls", "mean")


def interference_weights(
    relevance: torch.Tensor, usable: torch.Tensor, variant: str = "ls", eps: float = 1e-8
) -> torch.Tensor:
    """Row-normalised weights ``[n, n_ctx]`` over the usable context of each token.

    ``variant="ls"`` (TAM) weights context token ``j`` by its relevance ``ReLU(score_c(j))``;
    ``"mean"`` weights every usable context token equally. Unusable entries (later tokens,
    tokens identical to the explained one) get 0; a row with no usable context is all 0.
    """
    if variant == "ls":
        w = relevance.clamp_min(0) * usable
    elif variant == "mean":
        w = usable.to(relevance.dtype)
    else:
        raise ValueError(f"unknown ECI variant {variant!r}; choose one of {VARIANTS}")
    return w / (w.sum(-1, keepdim=True) + eps)


def least_squares_scale(maps: torch.Tensor, interference: torch.Tensor) -> torch.Tensor:
    """``s = <a, I> / <I, I>`` per row, and 0 where the interference is all zero."""
    num = (maps * interference).sum(-1)
    den = (interference * interference).sum(-1)
    return num / den.clamp_min(torch.finfo(den.dtype).tiny)  # den == 0 means I == 0, so num == 0


def eci(
    maps: torch.Tensor,
    context_maps: torch.Tensor,
    relevance: torch.Tensor,
    usable: torch.Tensor,
    variant: str = "ls",
) -> tuple[torch.Tensor, torch.Tensor]:
    """ECI for ``n`` tokens at once.

    Args:
        maps: raw maps of the explained tokens, ``[n, n_v]``.
        context_maps: raw maps of the context tokens, ``[n_ctx, n_v]``.
        relevance: score of each explained token's class at each context token, ``[n, n_ctx]``.
        usable: which context tokens may interfere with each explained token, ``[n, n_ctx]``.
        variant: ``"ls"`` (relevance-weighted, TAM) or ``"mean"`` (plain mean of context maps).

    Returns:
        ``(ReLU(a - s I), s)``: the corrected maps ``[n, n_v]`` and the scales ``[n]``.

    Example: the answer token's map is its own object plus half of an earlier word's map; ECI removes
    that interference:

    >>> import torch
    >>> earlier = torch.tensor([[0.0, 0.0, 4.0, 4.0]])        # an earlier word looked right
    >>> token = torch.tensor([[4.0, 4.0, 0.0, 0.0]]) + 0.5 * earlier
    >>> corrected, scale = eci(token, earlier, relevance=torch.ones(1, 1), usable=torch.ones(1, 1, dtype=torch.bool))
    >>> corrected.tolist(), round(float(scale[0]), 2)
    ([[4.0, 4.0, 0.0, 0.0]], 0.5)
    """
    weights = interference_weights(relevance, usable, variant)
    interference = weights @ context_maps
    scale = least_squares_scale(maps, interference)
    return (maps - scale[:, None] * interference).clamp_min(0), scale
