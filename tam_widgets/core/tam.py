"""Token Activation Maps from logits or hidden states: the public entry points.

>>> from tam_widgets.core import synthetic_example, tam_from_logits
>>> ex = synthetic_example()
>>> result = tam_from_logits(ex.logits, ex.input_ids, visual_positions=ex.visual_positions,
...                          prompt_positions=ex.prompt_positions, answer_start=ex.answer_start,
...                          grid=ex.grid)
>>> result.maps.shape == (len(ex.input_ids) - ex.answer_start, *ex.grid)
True
"""

from __future__ import annotations

import numpy as np
import torch

from .eci import VARIANTS, eci
from .filters import FILTERS, apply_filter
from .layout import TokenLayout, grid_sizes
from .normalize import multimodal_normalize
from .result import TAMResult
from .scores import ArrayLike, HiddenScores, LogitScores

COMPAT_MODES = ("default", "reference", "official")
"""The ``compat=`` values of :func:`tam_from_logits`; ``"official"`` is another name for ``"reference"``.

>>> COMPAT_MODES
('default', 'reference', 'official')
"""


def _check_finite(scores: torch.Tensor, positions: np.ndarray, what: str) -> None:
    """``scores`` is ``[n_classes, len(positions)]``; raise naming the first bad positions."""
    if scores.numel() == 0 or bool(torch.isfinite(scores.amax()) & torch.isfinite(scores.amin())):
        return  # max and min propagate NaN, and are far cheaper than an element-wise isfinite
    bad = (~torch.isfinite(scores)).any(0).nonzero()[:, 0].cpu().numpy()
    raise ValueError(
        f"scores contain NaN or inf at {what} (e.g. positions {positions[bad][:5].tolist()}); check the model output"
    )


def filter_grids(flat: torch.Tensor, grids, name: str | None) -> torch.Tensor:
    """Filter ``[n, n_v]`` maps image by image and frame by frame."""
    if name is None or name == "none":
        return flat
    if len(grids) == 1:
        return apply_filter(flat.reshape(flat.shape[0], *grids[0]), name).reshape(flat.shape)
    parts, start = [], 0
    for g, size in zip(grids, grid_sizes(grids)):
        part = flat[:, start : start + size].reshape(flat.shape[0], *g)
        parts.append(apply_filter(part, name).reshape(flat.shape[0], size))
        start += size
    return torch.cat(parts, 1)


def _default_tam(source, layout: TokenLayout, *, eci_variant, filter_name, include_prompt) -> TAMResult:
    ids = layout.input_ids
    if ids.max() >= source.vocab_size or ids.min() < 0:
        raise ValueError(f"input_ids hold ids outside the vocabulary [0, {source.vocab_size})")
    ctx_pos = layout.context
    exp_pos = ctx_pos if include_prompt else layout.answer
    ctx_ids, exp_ids = ids[ctx_pos], ids[exp_pos]
    # Index bookkeeping is tiny: do it in numpy, then move the few index tensors once.
    classes, inverse = np.unique(np.concatenate([ctx_ids, exp_ids]), return_inverse=True)
    dev = source.device

    def index(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(dev)

    scores = source.class_rows(index(classes))  # [n_classes, L]
    visual = scores.index_select(1, index(layout.visual))
    _check_finite(visual, layout.visual, "visual tokens")
    rel_rows = scores.index_select(1, index(ctx_pos - 1))
    _check_finite(rel_rows, ctx_pos - 1, "text tokens")

    visual = visual.clamp_min_(0)
    inv_exp = index(inverse[len(ctx_ids) :])
    raw_ctx, raw_exp = visual.index_select(0, index(inverse[: len(ctx_ids)])), visual.index_select(0, inv_exp)
    relevance = rel_rows.index_select(0, inv_exp).clamp_min_(0)  # [n, n_ctx]
    before_np = ctx_pos[None, :] < exp_pos[:, None]
    before = torch.from_numpy(before_np).to(dev)
    if eci_variant is None:
        maps, scales = raw_exp, torch.zeros(len(exp_pos), dtype=raw_exp.dtype, device=dev)
    else:
        usable = torch.from_numpy(before_np & (ctx_ids[None, :] != exp_ids[:, None])).to(dev)
        maps, scales = eci(raw_exp, raw_ctx, relevance, usable, eci_variant)
    maps, text = multimodal_normalize(maps, relevance, before)
    maps = filter_grids(maps, layout.grids, filter_name)
    return TAMResult(
        flat_maps=maps.float().cpu().numpy(),
        flat_raw_maps=raw_exp.float().cpu().numpy(),
        scales=scales.double().cpu().numpy(),
        text_relevance=text.float().cpu().numpy(),
        token_positions=exp_pos,
        class_ids=exp_ids,
        context_positions=ctx_pos,
        grids=layout.grids,
        settings={"compat": "default", "eci": eci_variant, "filter": filter_name},
    )


def _run(
    source, input_ids, *, visual_positions, prompt_positions, answer_start, grid, compat, eci, filter, include_prompt
) -> TAMResult:
    if compat not in COMPAT_MODES:
        raise ValueError(f"unknown compat mode {compat!r}; choose one of {COMPAT_MODES}")
    if eci is True:
        eci = "ls"
    elif eci is False:
        eci = None
    if eci is not None and eci not in VARIANTS:
        raise ValueError(f"unknown ECI variant {eci!r}; choose one of {VARIANTS}, True or False")
    if filter is not None and filter != "none" and filter not in FILTERS:
        raise ValueError(f"unknown filter {filter!r}; choose one of {sorted(FILTERS)} or None")
    layout = TokenLayout.build(
        input_ids,
        visual_positions=visual_positions,
        prompt_positions=prompt_positions,
        answer_start=answer_start,
        grid=grid,
        score_rows=source.length,
    )
    if compat in ("reference", "official"):
        if (eci, filter, include_prompt) != ("ls", "rank_gaussian", False):
            raise ValueError(
                "compat='reference' reproduces the official code only: leave eci, filter "
                "and include_prompt at their defaults"
            )
        from .reference import reference_tam

        return reference_tam(source, layout)
    return _default_tam(source, layout, eci_variant=eci, filter_name=filter, include_prompt=include_prompt)


def tam_from_logits(
    logits: ArrayLike,
    input_ids: ArrayLike,
    *,
    visual_positions: ArrayLike,
    prompt_positions: ArrayLike,
    answer_start: int,
    grid,
    compat: str = "default",
    eci: str | bool | None = "ls",
    filter: str | None = "rank_gaussian",
    include_prompt: bool = False,
) -> TAMResult:
    """Token Activation Maps from logits you already have (any model, no adapter needed).

    Args:
        logits: ``[L, V]`` next-token logits of every position that has a hidden state
            (``L = len(input_ids) - 1``, or ``len(input_ids)``), numpy or torch, any device.
            Only the columns of the explained classes are read.
        input_ids: ``[N]`` the input ids followed by the generated ids.
        visual_positions: positions of the visual tokens, in grid order.
        prompt_positions: positions of the prompt's text tokens (the context before the answer).
        answer_start: position of the first generated token; every later token is explained.
        grid: ``(h, w)``, ``(t, h, w)`` or a list of them (several images or videos).
        compat: ``"default"`` (corrected method, float maps) or ``"reference"`` (alias
            ``"official"``: the official code bit for bit: uint8 maps, its choice of classes,
            ``maps[0]`` = the first prompt token).
        eci: ``"ls"`` (TAM), ``"mean"`` (plain mean of context maps), or ``None``/``False`` (off).
        filter: ``"rank_gaussian"`` (TAM), ``"gaussian"``, ``"median"``, ``"adaptive_median"``
            or ``None``.
        include_prompt: also explain the prompt tokens (default mode only), prompt first.

    Returns:
        A :class:`TAMResult` with ``.maps``, ``.raw_maps``, ``.scales`` and ``.text_relevance``.

    Raises:
        ValueError: shapes that do not fit together, empty token lists, NaN/inf scores.

    Example:
        >>> from tam_widgets.core import synthetic_example
        >>> ex = synthetic_example(grid=(6, 8), n_prompt=5, n_answer=4)
        >>> result = tam_from_logits(ex.logits, ex.input_ids, visual_positions=ex.visual_positions,
        ...                          prompt_positions=ex.prompt_positions, answer_start=ex.answer_start, grid=(6, 8))
        >>> result.maps.shape  # one 6 x 8 map per answer token
        (4, 6, 8)
    """
    return _run(
        LogitScores(logits),
        input_ids,
        visual_positions=visual_positions,
        prompt_positions=prompt_positions,
        answer_start=answer_start,
        grid=grid,
        compat=compat,
        eci=eci,
        filter=filter,
        include_prompt=include_prompt,
    )


def tam_from_hidden(
    hidden: ArrayLike,
    lm_head_weight: ArrayLike,
    input_ids: ArrayLike,
    *,
    visual_positions: ArrayLike,
    prompt_positions: ArrayLike,
    answer_start: int,
    grid,
    lm_head_bias: ArrayLike | None = None,
    compat: str = "default",
    eci: str | bool | None = "ls",
    filter: str | None = "rank_gaussian",
    include_prompt: bool = False,
) -> TAMResult:
    """Token Activation Maps from last-layer hidden states ``[L, d]`` and the LM head ``[V, d]``.

    Class scores are computed by gathering only the LM-head rows of the explained classes, so no
    ``[L, V]`` tensor is ever made. Other arguments as in :func:`tam_from_logits`.

    >>> import torch
    >>> from tam_widgets.core import synthetic_example
    >>> ex = synthetic_example()
    >>> r = tam_from_hidden(ex.hidden, ex.lm_head_weight, ex.input_ids, grid=ex.grid,
    ...                     visual_positions=ex.visual_positions,
    ...                     prompt_positions=ex.prompt_positions, answer_start=ex.answer_start)
    >>> bool((r.flat_maps >= 0).all())
    True
    """
    return _run(
        HiddenScores(hidden, lm_head_weight, lm_head_bias),
        input_ids,
        visual_positions=visual_positions,
        prompt_positions=prompt_positions,
        answer_start=answer_start,
        grid=grid,
        compat=compat,
        eci=eci,
        filter=filter,
        include_prompt=include_prompt,
    )
