"""The metric stays fast: a 20-word caption, 24x32 maps, a 480x640 mask, well under 20 ms (after the first load)."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from tam_widgets.metrics import COCO_CATEGORIES, score_caption

from .conftest import encode

CAPTION = "A small white cat is sitting on a red sofa next to a black dog and a man holding a bike ."


@pytest.mark.parametrize("compat", ["default", "official"])
def test_time_per_caption(word_tok, compat):
    ids = encode(word_tok, CAPTION)
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 60, (len(ids), 24, 32), dtype=np.uint8)
    maps[:, 4:12, 6:14] = 220
    mask = np.zeros((480, 640), np.uint8)
    for k, label in enumerate((17, 63, 18, 1, 2)):
        mask[40 + 80 * k : 120 + 80 * k, 100:400] = label
    s = score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES, compat=compat)  # warm-up: NLTK loads
    assert len(s.words) >= 20 and s.obj_iou and s.func_iou
    times = []
    for _ in range(25):
        t0 = time.perf_counter()
        score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES, compat=compat)
        times.append(time.perf_counter() - t0)
    assert statistics.median(times) < 0.020
