"""What a map-making method receives: one answered turn of a chat, ready to re-run or rescore."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


class MethodUnavailable(RuntimeError):
    """A method cannot run on this model (the message says why and what to do).

    >>> import tam_widgets.methods as tm
    >>> try:
    ...     maps = tm.compute("rollout", inp)  # doctest: +SKIP
    ... except tm.MethodUnavailable as e:
    ...     print(e)  # e.g. "... needs eager attention ..."
    """


@dataclass
class MethodInput:
    """One turn of a conversation, as every method sees it.

    Attributes:
        model: the transformers model (eval mode), ``adapter`` its :class:`~tam_widgets.models.Adapter`.
        inputs: processor outputs for the whole sequence (``input_ids`` ``[1, N]`` = prompt and
            answer, pixel values, grids, ...): ``model(**inputs)`` re-runs it with teacher forcing.
        hidden: last hidden states ``[N - 1, d]`` (position ``p`` predicts token ``p + 1``).
        visual_positions: positions of the visual tokens in grid order, ``[n_v]``.
        grids: the token grid of each image/video, in order along ``visual_positions``.
        context_positions: prompt text and earlier answers, the context TAM uses.
        answer_start, answer_end: the explained tokens are ``input_ids[answer_start:answer_end]``.

    Usually made by ``chat.method_input()``; by hand (10 tokens: 4 visual, 2 prompt, 3 answer):

    >>> inp = MethodInput(model=torch.nn.Identity(), adapter=None, inputs={"input_ids": torch.arange(10)[None]},
    ...                   hidden=torch.zeros(9, 4), visual_positions=np.arange(1, 5), grids=[(2, 2)],
    ...                   context_positions=np.arange(5, 7), answer_start=7, answer_end=10)
    >>> inp.answer_positions.tolist(), inp.input_ids.tolist()[-3:]
    ([7, 8, 9], [7, 8, 9])
    """

    model: torch.nn.Module
    adapter: object
    inputs: dict
    hidden: torch.Tensor
    visual_positions: np.ndarray
    grids: list[tuple[int, ...]]
    context_positions: np.ndarray
    answer_start: int
    answer_end: int

    @property
    def input_ids(self) -> torch.Tensor:
        return self.inputs["input_ids"][0, : self.answer_end]

    @property
    def answer_positions(self) -> np.ndarray:
        return np.arange(self.answer_start, self.answer_end)
