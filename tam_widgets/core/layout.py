"""Visual token layout: which positions are visual and how they fold into grids.

A *grid* is ``(h, w)`` for an image or ``(t, h, w)`` for a video (``t`` frames or temporal
groups, each an ``h x w`` grid, stored frame after frame, row-major). Several images or videos
in one prompt are given as a list of grids, in the order their tokens appear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

Grid = tuple[int, ...]


def normalize_grids(grid: Sequence[int] | Sequence[Sequence[int]]) -> tuple[Grid, ...]:
    """Return ``grid`` as a tuple of grids, checking every one is ``(h, w)`` or ``(t, h, w)``.

    >>> normalize_grids((24, 32))
    ((24, 32),)
    >>> normalize_grids([(2, 3), (4, 2, 2)])
    ((2, 3), (4, 2, 2))
    """
    if grid is None or len(grid) == 0:
        raise ValueError("grid is empty: pass (h, w), (t, h, w) or a list of them")
    first = grid[0]
    items = [grid] if isinstance(first, (int,)) or hasattr(first, "__index__") else list(grid)
    out = []
    for g in items:
        try:
            dims = tuple(int(x) for x in g)
        except TypeError as exc:
            raise ValueError(f"grid {g!r} is not a tuple of ints like (h, w) or (t, h, w)") from exc
        if len(dims) not in (2, 3) or min(dims) < 1:
            raise ValueError(f"grid {dims} must be (h, w) or (t, h, w) with positive sizes")
        out.append(dims)
    return tuple(out)


def grid_sizes(grids: Sequence[Grid]) -> list[int]:
    """Number of visual tokens in each grid."""
    return [math.prod(g) for g in grids]


def _positions(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D list of positions, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer positions, got dtype {arr.dtype}")
    return arr.astype(np.int64)


@dataclass(frozen=True)
class TokenLayout:
    """Where the visual, prompt and answer tokens of one sequence are (all checked).

    ``answer`` is every position from ``answer_start`` to the end of ``input_ids``.

    >>> layout = TokenLayout.build(np.arange(10), visual_positions=[1, 2, 3, 4], prompt_positions=[5, 6],
    ...                            answer_start=7, grid=(2, 2), score_rows=9)
    >>> layout.answer.tolist(), layout.context.tolist()
    ([7, 8, 9], [5, 6, 7, 8, 9])
    """

    input_ids: np.ndarray
    visual: np.ndarray
    prompt: np.ndarray
    answer_start: int
    grids: tuple[Grid, ...]

    @property
    def answer(self) -> np.ndarray:
        return np.arange(self.answer_start, len(self.input_ids), dtype=np.int64)

    @property
    def context(self) -> np.ndarray:
        """Text tokens that can leak into later maps: prompt, then answer."""
        return np.concatenate([self.prompt, self.answer])

    @classmethod
    def build(
        cls,
        input_ids,
        *,
        visual_positions,
        prompt_positions,
        answer_start: int,
        grid,
        score_rows: int,
    ) -> TokenLayout:
        """Validate a layout against ``score_rows`` rows of scores; raise ``ValueError`` if off."""
        ids = _positions(input_ids, "input_ids")
        n = len(ids)
        if n < 2:
            raise ValueError(f"input_ids has {n} tokens; need at least one input and one answer token")
        if score_rows not in (n - 1, n):
            raise ValueError(
                f"scores have {score_rows} rows but input_ids has {n} tokens: pass one row per "
                f"position that has a hidden state ({n - 1}, or {n} if the last token was fed back)"
            )
        answer_start = int(answer_start)
        if not 1 <= answer_start < n:
            raise ValueError(
                f"answer_start={answer_start} leaves no answer tokens in input_ids of length {n}; "
                f"it must be in [1, {n - 1}]"
            )
        grids = normalize_grids(grid)
        visual = _positions(visual_positions, "visual_positions")
        prompt = _positions(prompt_positions, "prompt_positions")
        if visual.size == 0:
            raise ValueError("visual_positions is empty: TAM needs the positions of the visual tokens")
        expected = sum(grid_sizes(grids))
        if visual.size != expected:
            raise ValueError(
                f"grid {list(grids)} holds {expected} visual tokens but visual_positions has "
                f"{visual.size} (shape {visual.shape}); they must match"
            )
        for name, pos in (("visual_positions", visual), ("prompt_positions", prompt)):
            if pos.size and (pos.min() < 1 or pos.max() >= answer_start):
                raise ValueError(
                    f"{name} must lie in [1, answer_start={answer_start}), got range [{pos.min()}, {pos.max()}]"
                )
            if np.unique(pos).size != pos.size:
                raise ValueError(f"{name} has repeated positions")
        if np.intersect1d(visual, prompt).size:
            raise ValueError("visual_positions and prompt_positions overlap")
        return cls(ids, visual, np.sort(prompt), answer_start, grids)
