"""summarize (pooled over words), METEOR and ROUGE-L on small hand cases."""

from __future__ import annotations

import math
import warnings

import pytest

from tam_widgets.metrics import CaptionScore, meteor, rouge_l, summarize, tokenize
from tam_widgets.metrics.text import lcs_length


def _s(obj, func, prec=None, skipped=None):
    prec = [1.0] * len(obj) if prec is None else prec
    return CaptionScore(obj, func, prec, [1.0] * len(obj), [1] * len(obj), None, "", "default", skipped=skipped)


def test_summarize_pools_over_words_not_images():
    res = summarize([_s([1.0], [0.2, 0.2, 0.2]), _s([0.0, 0.0, 0.0], [1.0]), _s([], [], skipped="why")])
    # per-image means would give obj 0.5 and func 0.6; pooled over words: 1/4 and 1.6/4
    assert res["obj_iou"] == 0.25 and res["func_iou"] == pytest.approx(0.4)
    assert res["f1_iou"] == pytest.approx(2 * 0.25 * 0.4 / 0.65)
    assert (res["n_samples"], res["n_skipped"], res["n_obj_words"], res["n_func_words"]) == (2, 1, 4, 4)


def test_summarize_accepts_plain_records():
    class Rec:
        obj_iou, func_iou = [0.5], [1.0]

    res = summarize([Rec(), {"obj_iou": [1.0], "func_iou": [0.5, 0.0], "skipped": False}, {"skipped": True}])
    assert (res["obj_iou"], res["func_iou"], res["n_samples"], res["n_skipped"]) == (0.75, 0.5, 2, 1)
    assert math.isnan(res["precision"])


def test_summarize_edge_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = summarize([])
        no_obj = summarize([_s([], [0.5])])
        zeros = summarize([_s([0.0], [0.0])])
        nan_prec = summarize([_s([0.0, 1.0], [], prec=[math.nan, 0.5])])
    assert math.isnan(empty["obj_iou"]) and math.isnan(empty["f1_iou"]) and empty["n_samples"] == 0
    assert math.isnan(no_obj["obj_iou"]) and no_obj["func_iou"] == 0.5 and math.isnan(no_obj["f1_iou"])
    assert zeros["f1_iou"] == 0.0
    assert nan_prec["precision"] == 0.5 and nan_prec["obj_iou"] == 0.5


def test_tokenize():
    assert tokenize("A Dog's toy, on the SOFA.") == ["a", "dog's", "toy", "on", "the", "sofa"]
    assert tokenize("A dog.", compat="official") == ["a", "dog."]


def test_lcs_and_rouge_l():
    assert lcs_length([], ["a"]) == 0 and lcs_length(list("abcbdab"), list("bdcaba")) == 4
    # LCS("a dog on a couch", "a dog sleeping on the couch") = "a dog on couch": P = 4/5, R = 4/6
    p, r = 4 / 5, 4 / 6
    assert rouge_l("A dog on a couch.", ["a dog sleeping on the couch"]) == pytest.approx(2 * p * r / (p + r))
    assert rouge_l("a dog on a couch", ["nothing here", "a dog on a couch"]) == 1.0  # max over references
    assert rouge_l("a dog", "a cat") == pytest.approx(0.5)  # a single reference string
    assert rouge_l("cat", ["dog"]) == 0.0 and rouge_l("", ["dog"]) == 0.0
    assert rouge_l("a b c d", ["a b"], beta=2.0) == pytest.approx(5 * 0.5 * 1.0 / (1.0 + 4 * 0.5))
    with pytest.raises(ValueError):
        rouge_l("a", [])


def test_meteor():
    # exact match of 3 words in one chunk: Fmean = 1, penalty = 0.5 * (1/3)^3
    assert meteor("a cat sat", ["a cat sat"]) == pytest.approx(1 - 0.5 / 27, abs=1e-6)
    assert meteor("A cat sat.", ["the dog ran", "a cat sat"]) == pytest.approx(1 - 0.5 / 27, abs=1e-6)
    assert meteor("a cat sat.", ["a cat sat"], compat="official") < meteor("a cat sat.", ["a cat sat"])
    assert meteor("zebra", ["a cat sat"]) == 0.0 and meteor("", ["a cat"]) == 0.0
    # one match of 1 hypothesis word among 3 reference words: P = 1, R = 1/3, Fmean = 10PR / (R + 9P)
    f = 10 * (1 / 3) / (1 / 3 + 9)
    assert meteor("cat", ["a cat sat"]) == pytest.approx(f * (1 - 0.5), abs=1e-6)
