"""The ``Explanation`` record: tokens, maps, geometry, images, and its lossless file format.

An explanation holds, for one conversation with a vision-language model:

* ``tokens``: every text token of the conversation in order (template/special tokens included,
  visual placeholder tokens excluded), each a :class:`Token` with ``.text``, ``.id``, ``.role``
  (``"prompt"``, ``"answer"`` or ``"special"``), ``.turn`` and ``.position`` in the sequence;
* ``explained``: indices into ``tokens`` of the tokens that have maps;
* ``maps``: ``{method: float16 [n_explained, n_visual]}`` over all visual tokens of the
  conversation (``"tam"``, ``"cam"``, and ablations), split per image/video by ``grids``;
* ``text_relevance``: float16 ``[n_explained, n_tokens]``, each explained token's relevance over
  the earlier text tokens, on the map's scale (0 outside its context);
* ``grids``: one :class:`VisualGrid` per image, video or thumbnail: where its tokens sit in the
  visual axis, its token grid, and which pixel box of which stored image each frame covers;
* ``images``: the (downscaled) RGB images and video frames, uint8;
* ``candidates``: the top-k next-token candidates and probabilities of each explained token;
* ``words``: ``[n_words, 2]`` half-open token index ranges grouping tokens into words;
* ``metadata``: model id and revision, dtype, generation settings, package version, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ROLES = ("prompt", "answer", "special")


@dataclass(frozen=True)
class Token:
    """One text token of the conversation."""

    text: str
    id: int
    role: str
    turn: int
    position: int


@dataclass
class VisualGrid:
    """The visual tokens of one image, video or thumbnail.

    Attributes:
        kind: ``"image"``, ``"video"`` or ``"thumbnail"``.
        label: what to call it in a view, e.g. ``"image 1"``.
        offset: index of its first token on the visual axis of ``Explanation.maps``.
        grid: ``(h, w)`` or ``(t, h, w)``; its tokens are frame after frame, row-major.
        frames: for each of the ``t`` frames (1 for an image), the index in
            ``Explanation.images`` of the picture it covers.
        boxes: float ``[t, 4]``: the ``(x0, y0, x1, y1)`` pixel box of that picture, in the
            stored picture's pixels, that the frame's grid covers (a crop or the whole picture).
    """

    kind: str
    label: str
    offset: int
    grid: tuple[int, ...]
    frames: list[int]
    boxes: np.ndarray

    @property
    def size(self) -> int:
        return int(np.prod(self.grid))


@dataclass
class Explanation:
    """Everything needed to show, save and reload one explained conversation."""

    tokens: list[Token]
    explained: np.ndarray
    maps: dict[str, np.ndarray]
    text_relevance: np.ndarray
    grids: list[VisualGrid]
    images: list[np.ndarray]
    candidate_ids: np.ndarray
    candidate_probs: np.ndarray
    candidate_texts: list[list[str]]
    words: np.ndarray
    metadata: dict = field(default_factory=dict)
