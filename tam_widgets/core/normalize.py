"""Min-max normalisation, and the multimodal map: visual and text relevance on one scale.

>>> import torch
>>> vis, txt = multimodal_normalize(torch.tensor([[0.0, 2.0]]), torch.tensor([[4.0, 9.0]]),
...                                 torch.tensor([[True, False]]))
>>> vis.tolist(), txt.tolist()
([[0.0, 0.5]], [[1.0, 0.0]])
"""

from __future__ import annotations

import torch


def minmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Scale each slice along ``dim`` to ``[0, 1]``; a constant slice becomes all 0."""
    lo = x.amin(dim, keepdim=True)
    span = x.amax(dim, keepdim=True) - lo
    return torch.where(span > 0, (x - lo) / span.clamp_min(torch.finfo(x.dtype).tiny), torch.zeros_like(x))


def multimodal_normalize(
    visual: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Min-max each row of ``visual [n, n_v]`` and ``text [n, n_ctx]`` jointly.

    Only the text entries where ``text_mask`` is true take part (and are returned normalised);
    the others come back as 0. A row whose values are all equal becomes all 0. Never NaN.
    """
    lo, hi = visual.amin(-1), visual.amax(-1)
    if text.shape[-1]:
        lo = torch.minimum(lo, torch.where(text_mask, text, float("inf")).amin(-1))
        hi = torch.maximum(hi, torch.where(text_mask, text, float("-inf")).amax(-1))
    lo = lo[:, None]
    # Where a row is constant, every value equals lo, so the division yields exact zeros.
    scale = (hi[:, None] - lo).clamp_min_(torch.finfo(visual.dtype).tiny)
    return (visual - lo).div_(scale), (text - lo).div_(scale).mul_(text_mask)
