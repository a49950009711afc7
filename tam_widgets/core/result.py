"""The result of one TAM computation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .layout import Grid, grid_sizes


def split_grids(flat: np.ndarray, grids: tuple[Grid, ...]) -> list[np.ndarray]:
    """Split ``[n, n_v]`` maps into one ``[n, *grid]`` array per image or video."""
    out, start = [], 0
    for g, size in zip(grids, grid_sizes(grids)):
        out.append(flat[:, start : start + size].reshape(flat.shape[0], *g))
        start += size
    return out


@dataclass
class TAMResult:
    """Maps and relevances of the explained tokens (numpy arrays on the CPU).

    Attributes:
        flat_maps: final maps ``[n, n_v]`` over all visual tokens; float32 in ``[0, 1]`` by
            default, uint8 (0-255) with ``compat="reference"``.
        flat_raw_maps: the CAM baseline ``ReLU(score)`` at the visual tokens, ``[n, n_v]``.
        scales: the ECI least-squares scale of each token (0 where nothing was subtracted).
        text_relevance: relevance of each context token for each explained token,
            ``[n, n_ctx]``, on the same scale as the map before filtering; 0 outside the context.
        token_positions: sequence position of each explained token, ``[n]``.
        class_ids: the class explained for each token, ``[n]``.
        context_positions: positions of the context tokens (prompt, then answer), ``[n_ctx]``.
        grids: the visual grid of each image or video.
        settings: how the maps were made (``compat``, ``eci``, ``filter``).
        trace: intermediate values (reference mode: the official context list's raw maps).

    Example:
        >>> from tam_widgets.core import synthetic_example, tam_from_logits
        >>> ex = synthetic_example(grid=(6, 8), n_prompt=5, n_answer=4)
        >>> result = tam_from_logits(ex.logits, ex.input_ids, visual_positions=ex.visual_positions,
        ...                          prompt_positions=ex.prompt_positions, answer_start=ex.answer_start, grid=(6, 8))
        >>> len(result), result.maps.shape, result.text_relevance.shape[0]
        (4, (4, 6, 8), 4)
    """

    flat_maps: np.ndarray
    flat_raw_maps: np.ndarray
    scales: np.ndarray
    text_relevance: np.ndarray
    token_positions: np.ndarray
    class_ids: np.ndarray
    context_positions: np.ndarray
    grids: tuple[Grid, ...]
    settings: dict = field(default_factory=dict)
    trace: dict = field(default_factory=dict)

    def _shaped(self, flat: np.ndarray) -> np.ndarray | list[np.ndarray]:
        parts = split_grids(flat, self.grids)
        return parts[0] if len(parts) == 1 else parts

    @property
    def maps(self) -> np.ndarray | list[np.ndarray]:
        """``[n, *grid]``, or a list with one such array per image/video when there are several."""
        return self._shaped(self.flat_maps)

    @property
    def raw_maps(self) -> np.ndarray | list[np.ndarray]:
        """The raw class activation maps, shaped like :attr:`maps`."""
        return self._shaped(self.flat_raw_maps)

    def __len__(self) -> int:
        return len(self.token_positions)

    def __repr__(self) -> str:
        return (
            f"TAMResult({len(self)} tokens, grids={list(self.grids)}, "
            f"maps {self.flat_maps.dtype}, settings={self.settings})"
        )
