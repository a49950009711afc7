"""``compat="reference"``: the official TAM code's computation, reproduced bit for bit.

Kept apart from the default pipeline because it copies the official code's choices on purpose
(see ``shared/golden/README.md`` of the project's CI for the measured facts):

* round 0 evaluates every prompt token, then the last template token; ``maps[0]`` is the map of
  the first prompt token, explained with the argmax class at its position; round ``r >= 1``
  explains generated token ``r`` (the first generated token is never explained);
* a prompt token's relevance is read at its own position, a generated token's at the position
  that predicted it; identical tokens are left out of the interference;
* float32 scores and normalisation, float64 after ECI, the scale found by Brent's method on the
  squared error, the rank Gaussian filter of :func:`rank_gaussian_filter_reference`, and
  ``uint8`` truncation of ``map * 255``.

It loops over the tokens (the official code's order of floating-point operations matters for
exactness); the default mode is the fast, batched one.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from .filters import rank_gaussian_filter_reference
from .layout import TokenLayout
from .result import TAMResult, split_grids


def _least_squares_brent(a: np.ndarray, interference: np.ndarray) -> np.float64:
    return np.float64(minimize_scalar(lambda s: np.sum((a - s * interference) ** 2)).x)


def reference_tam(source, layout: TokenLayout) -> TAMResult:
    """Run the official computation on ``source`` scores laid out as ``layout``."""
    ids = layout.input_ids
    prompt, start = layout.prompt, layout.answer_start
    n_p, n_a = len(prompt), len(ids) - start
    if n_p == 0:
        raise ValueError("compat='reference' needs at least one prompt token (prompt_positions is empty)")
    first = source.row(int(prompt[0]))
    _finite = torch.isfinite(first)
    if not bool(_finite.all()):
        raise ValueError(f"scores contain NaN or inf at position {int(prompt[0])}; check the model output")
    # Evaluations in the official order: prompt tokens, the last template token, rounds 1..n_a-1.
    classes = np.concatenate([[int(first.argmax())], ids[prompt[1:]], [ids[start - 1]], ids[start + 1 :]])
    same_as = np.concatenate([ids[prompt], ids[start:]])  # token of each context-list entry
    rel_pos = np.concatenate([prompt, start - 1 + np.arange(n_a)])  # where its relevance is read
    kept = np.concatenate([[0], n_p + np.arange(1, n_a)])  # evaluations whose maps are returned

    uniq, inverse = np.unique(classes, return_inverse=True)
    scores = source.columns(torch.as_tensor(uniq, device=source.device)).float().cpu().numpy()
    if not np.isfinite(scores[np.concatenate([layout.visual, rel_pos])]).all():
        raise ValueError("scores contain NaN or inf at the visual or text positions; check the model output")
    raw = np.maximum(scores[layout.visual][:, inverse].T, 0)  # [E, n_v] float32, the context list

    n_ctx = n_p + n_a
    maps = np.zeros((n_a, raw.shape[1]), np.uint8)
    text = np.zeros((n_a, n_ctx), np.float32)
    scales = np.zeros(n_a)
    for k, ev in enumerate(kept):
        c = inverse[ev]
        n_rel = n_p if ev <= n_p else ev
        rel = np.maximum(scores[rel_pos[:n_rel], c], 0)
        a = raw[ev]
        if ev > 0:
            ctx = np.flatnonzero(same_as[:ev] != same_as[ev])
            w = rel[ctx] / (rel[ctx].sum() + 1e-8)
            interference = (w[:, None] * raw[ctx]).sum(0)
            s = _least_squares_brent(a, interference)
            a = np.maximum(a - s * interference, 0)
            rel = rel.astype(np.float64)
            scales[k] = s
        joint = np.concatenate([a, rel])
        lo, hi = joint.min(), joint.max()
        with np.errstate(divide="ignore", invalid="ignore"):  # no epsilon, as in the official code
            normed = (a - lo) / (hi - lo)
            text[k, :n_rel] = np.nan_to_num((rel - lo) / (hi - lo))
        frames = split_grids(normed[None], layout.grids)
        filtered = [rank_gaussian_filter_reference(f[0]).reshape(-1) for f in frames]
        maps[k] = (np.concatenate(filtered) * 255).astype(np.uint8)
    positions = np.concatenate([[prompt[0]], start + np.arange(1, n_a)])
    return TAMResult(
        flat_maps=maps,
        flat_raw_maps=raw[kept],
        scales=scales,
        text_relevance=text,
        token_positions=positions.astype(np.int64),
        class_ids=classes[kept].astype(np.int64),
        context_positions=layout.context,
        grids=layout.grids,
        settings={"compat": "reference", "eci": "ls", "filter": "rank_gaussian"},
        trace={"context_raw_maps": raw, "context_classes": classes},
    )
