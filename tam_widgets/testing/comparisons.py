"""Hand-made records of several "models" answering the same question about the same picture, for the comparison
view's tests and benchmark: each answer has its own tokenisation (words split differently, words missing, repeated
words) and its own maps, over the same stored picture.

>>> a, b = model_records([[" A", " bl", "ack", " cat"], [" a", " black", " cat"]])
>>> from tam_widgets.compare import answer_words
>>> answer_words(a), answer_words(b)
([(12, 13), (13, 15), (15, 16)], [(12, 13), (13, 14), (14, 15)])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..record import Explanation
from ..words import group_words
from .records import synthetic_record

#: The labels :func:`model_records` gives (and their model ids).
MODEL_IDS = ("Qwen/Qwen2-VL-2B-Instruct", "OpenGVLab/InternVL3-1B-hf", "llava-hf/llava-1.5-7b-hf")


def model_records(
    answers: Sequence[Sequence[str]],
    grid: tuple[int, int] = (6, 8),
    image_size: tuple[int, int] = (96, 128),
    untrained: bool = True,
) -> list[Explanation]:
    """One record per answer (a list of token texts): the same picture and prompt, words grouped from the tokens,
    each model's maps a different permutation of the cells (so the panels differ); ``model_id`` from
    :data:`MODEL_IDS` (then ``demo/model-N``)."""
    out = []
    for k, toks in enumerate(answers):
        exp = synthetic_record(list(toks), grid=grid, image_size=image_size, seed=0)
        perm = np.random.default_rng(k + 1).permutation(exp.maps["tam"].shape[1])
        maps = {m: v[:, perm] for m, v in exp.maps.items()}
        meta = {"model_id": MODEL_IDS[k] if k < len(MODEL_IDS) else f"demo/model-{k + 1}"}
        if untrained:
            meta["untrained"] = True
        out.append(dataclasses.replace(exp, words=group_words(exp.tokens), maps=maps, metadata=meta))
    return out
