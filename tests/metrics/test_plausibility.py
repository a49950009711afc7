"""score_caption: hand-computed IoUs, the worked example of EVAL_PROTOCOL.md, each official quirk and its fix."""

from __future__ import annotations

import math
import warnings

import cv2
import numpy as np
import pytest

from tam_widgets.metrics import COCO_CATEGORIES, score_caption

from .conftest import block, encode

S8 = (8, 8)


def _maps(n: int, shape=S8, value: int = 0) -> np.ndarray:
    return np.full((n, *shape), value, np.uint8)


def _both(maps, ids, tok, mask, cats=COCO_CATEGORIES):
    return (
        score_caption(maps, ids, tok, mask, cats, compat="official"),
        score_caption(maps, ids, tok, mask, cats),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Obj-IoU by hand
# ---------------------------------------------------------------------------------------------------------------------


def test_obj_iou_by_hand(word_tok):
    ids = encode(word_tok, "a cat .")  # a, cat, ., EOS
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)  # 16 cat pixels
    maps = _maps(4)
    maps[1] = block(S8, slice(0, 4), slice(2, 6))  # 16 predicted pixels (Otsu: value > 0), 8 of them on the cat
    for s in _both(maps, ids, word_tok, mask):
        assert s.skipped is None
        assert s.obj_iou == [pytest.approx(8 / 24)] and s.obj_labels == [17]
        assert s.precision == [0.5] and s.recall == [0.5]
        row = s.words.set_index("word").loc["cat"]
        assert row["category"] == "cat" and row["best_token"] == 1 and row["otsu"] == 0.0 and row["entry"] == 0


def test_best_token_of_a_multi_token_word(bpe_tok):
    ids = encode(bpe_tok, "a skateboard .")
    sk = next(i for i, p in enumerate(bpe_tok.convert_ids_to_tokens(ids)) if p == "\u0120s")
    mask = block(S8, slice(2, 6), slice(2, 6), fg=41)
    maps = _maps(len(ids))
    maps[sk] = block(S8, slice(0, 8), slice(2, 6))  # IoU 16 / 32
    maps[sk + 2] = block(S8, slice(2, 6), slice(2, 6))  # exactly the skateboard
    for s in _both(maps, ids, bpe_tok, mask):
        row = s.words.set_index("word").loc["skateboard"]
        assert row["stop"] - row["start"] > 2 and row["best_token"] == sk + 2
        assert s.obj_iou == [1.0] and s.precision == [1.0] and s.recall == [1.0]


def test_maps_are_resized_to_the_mask(word_tok):
    ids = encode(word_tok, "a cat .")
    maps = _maps(4, (24, 32))
    maps[1][:, :16] = 255  # left half of the token grid
    mask = np.zeros((96, 128), np.uint8)
    mask[:, :64] = 17  # left half of the image
    s = score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES)
    # bilinear x4 puts 223, 159, 96, 32 across the edge, symmetric around it: Otsu splits it in the middle
    assert s.obj_iou == [1.0]
    assert 96 <= s.words.set_index("word").loc["cat", "otsu"] < 159


def test_absent_category_is_not_scored(word_tok):
    ids = encode(word_tok, "a cat .")
    maps = _maps(4)
    maps[1] = block(S8, slice(0, 4), slice(0, 4))
    s = score_caption(maps, ids, word_tok, np.zeros(S8, np.uint8), COCO_CATEGORIES)
    assert s.obj_iou == [] and s.func_iou == [1.0]  # the noun still sets fg (= 0): "a"'s map is all 0 <= 0
    row = s.words.set_index("word").loc["cat"]
    assert row["label"] == 17 and not row["in_mask"] and math.isnan(row["iou"])


# ---------------------------------------------------------------------------------------------------------------------
# The worked example of EVAL_PROTOCOL.md
# ---------------------------------------------------------------------------------------------------------------------


def _worked_example(tok):
    ids = encode(tok, "A cat sitting on a skateboard with a dog .")
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 40, (len(ids), 24, 32), dtype=np.uint8)
    mask = np.zeros((96, 128), np.uint8)
    mask[8:40, 8:56] = 17  # cat
    mask[56:88, 16:112] = 41  # skateboard
    mask[8:48, 72:120] = 18  # dog
    for tok_i, (r0, r1, c0, c1) in {1: (2, 10, 2, 14), 5: (14, 22, 4, 28), 8: (2, 12, 18, 30)}.items():
        maps[tok_i, r0:r1, c0:c1] = 230
    return ids, maps, mask


def test_worked_example_official(word_tok):
    ids, maps, mask = _worked_example(word_tok)
    s = score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES, compat="official")
    w = s.words.set_index("word", drop=False)
    assert s.skipped is None and len(s.words) == 10
    assert len(s.obj_iou) == 2 and s.obj_labels == [17, 41] and min(s.obj_iou) > 0.5
    assert len(s.func_iou) == 3 and list(s.words.loc[s.words.kind == "function", "word"]) == ["A", "a", "a"]
    assert (w.loc["dog", "category"], w.loc["dog", "label"], w.loc["dog", "in_mask"]) == ("hot dog", 58, False)
    assert (w.loc[".<|im_end|>", "pos"], w.loc[".<|im_end|>", "kind"]) == ("NN", "noun")
    nouns = s.words[s.words.kind == "noun"]
    assert list(nouns.word) == ["cat", "skateboard", "dog", ".<|im_end|>"]
    assert s.fg_threshold == pytest.approx(nouns.otsu.mean())


def test_worked_example_default(word_tok):
    ids, maps, mask = _worked_example(word_tok)
    off = score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES, compat="official")
    s = score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES)
    w = s.words.set_index("word", drop=False)
    assert s.obj_labels == [17, 41, 18] and s.obj_iou[:2] == off.obj_iou and s.obj_iou[2] > 0.5
    assert len(s.func_iou) == 3
    assert w.loc["dog", "category"] == "dog" and w.loc[".", "kind"] == "other"
    assert "<|im_end|>" not in "".join(s.words.word)
    assert list(s.words[s.words.kind == "noun"].word) == ["cat", "skateboard", "dog"]


# ---------------------------------------------------------------------------------------------------------------------
# Quirks and fixes
# ---------------------------------------------------------------------------------------------------------------------


def test_eos_is_a_noun_in_official_mode(word_tok):
    ids = encode(word_tok, "a cat .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    maps = np.stack([
        block(S8, slice(0, 2), slice(None), fg=30, bg=80),  # "a": 16 pixels at 30, 48 at 80
        block(S8, slice(0, 4), slice(0, 4), fg=200, bg=10),  # cat: Otsu threshold 10 (two values: the lower)
        block(S8, slice(4, 8), slice(0, 4), fg=250, bg=60),  # ".": 60
        block(S8, slice(4, 8), slice(4, 8), fg=250, bg=100),  # EOS: 100
    ])  # fmt: skip
    off, dft = _both(maps, ids, word_tok, mask)
    assert off.fg_threshold == (10 + max(60, 100)) / 2 == 55  # the ".<|im_end|>" noun counts
    assert off.func_iou == [16 / 64]  # 30 < 55 <= 80
    assert dft.fg_threshold == 10 and dft.func_iou == [0.0]
    assert off.obj_iou == dft.obj_iou == [1.0]


def test_eos_steals_the_last_noun(word_tok):
    ids = encode(word_tok, "a cat")  # no final punctuation: official tags and matches "cat<|im_end|>"
    maps = _maps(3)
    maps[1] = block(S8, slice(0, 4), slice(0, 4))
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    off, dft = _both(maps, ids, word_tok, mask)
    assert off.obj_iou == [] and list(off.words.word) == ["a", "cat<|im_end|>"]
    assert dft.obj_iou == [1.0]


def test_space_token_is_an_empty_noun_in_official_mode(bpe_tok):
    ids = encode(bpe_tok, "a dog .")  # byte-level: "a", " dog", " ", ".", EOS
    assert bpe_tok.convert_ids_to_tokens(ids)[2] == "\u0120"
    maps = _maps(len(ids))
    maps[2] = block(S8, slice(0, 4), slice(0, 4), fg=200, bg=40)  # Otsu threshold 40
    off, dft = _both(maps, ids, bpe_tok, np.zeros(S8, np.uint8))
    assert list(off.words.word) == ["a", "dog", "", ".<|im_end|>"] and list(off.words.kind)[2] == "noun"
    assert off.fg_threshold == 40 / 3  # dog 0, "" 40, ".<|im_end|>" 0
    assert list(dft.words.word) == ["a", "dog", "."] and dft.fg_threshold == 0


def test_strict_less_than(word_tok):
    ids = encode(word_tok, "a cat .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    noun = block(S8, slice(0, 4), slice(0, 4), fg=200, bg=10)  # every noun map: Otsu threshold 10
    maps = np.stack([block(S8, slice(0, 2), slice(None), fg=10, bg=200), noun, noun, noun])
    off, dft = _both(maps, ids, word_tok, mask)
    assert off.fg_threshold == dft.fg_threshold == 10
    assert off.func_iou == [0.0]  # 10 < 10 is false: pixels at the threshold count as foreground
    assert dft.func_iou == [16 / 64]  # background = value <= threshold, as Otsu's foreground is value > threshold


def test_func_iou_on_unresized_maps(word_tok):
    ids = encode(word_tok, "a cat .")
    mask = np.zeros((16, 16), np.uint8)
    mask[:8, :8] = 17
    maps = _maps(4, (4, 4))
    maps[0, 0, 0] = 200  # "a": one bright cell of 16
    maps[1, :2, :2] = 200
    off, dft = _both(maps, ids, word_tok, mask)
    fg = off.fg_threshold
    assert 0 < fg < 200
    assert off.func_iou == [15 / 16]  # counted on the 4 x 4 map
    up = cv2.resize(maps[0], (16, 16))  # bilinear spreads the cell over 6 x 6 pixels: 200, 175, 125, 75, 25
    assert np.count_nonzero(up) == 36
    assert dft.func_iou == [pytest.approx(np.count_nonzero(up <= dft.fg_threshold) / 256)]
    assert dft.func_iou[0] != 15 / 16


def test_hot_dog(word_tok):
    ids = encode(word_tok, "a hot dog and a dog .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=18)
    mask[4:, 4:] = 58
    maps = _maps(len(ids))
    maps[2] = block(S8, slice(4, 8), slice(4, 8))  # "dog" of "hot dog": on the hot dog
    maps[5] = block(S8, slice(0, 4), slice(0, 4))  # "dog": on the dog
    off, dft = _both(maps, ids, word_tok, mask)
    assert off.obj_labels == [58, 58] and off.obj_iou == [1.0, 0.0]  # both "dog"s are the hot dog
    assert dft.obj_labels == [58, 18] and dft.obj_iou == [1.0, 1.0]


def test_tagging_alone_vs_in_context(word_tok):
    ids = encode(word_tok, "there is a cat .")
    maps = _maps(len(ids))
    off, dft = _both(maps, ids, word_tok, np.zeros(S8, np.uint8))
    assert off.words.pos.iloc[0] == "RB" and len(off.func_iou) == 1
    assert dft.words.pos.iloc[0] == "EX" and len(dft.func_iou) == 2


def test_synonyms_only_in_default_mode(word_tok):
    ids = encode(word_tok, "a man on a sofa .")
    mask = block(S8, slice(0, 4), slice(None), fg=1)
    mask[4:] = 63
    maps = _maps(len(ids))
    maps[1] = block(S8, slice(0, 4), slice(None))
    maps[4] = block(S8, slice(4, 8), slice(None))
    off, dft = _both(maps, ids, word_tok, mask)
    assert off.obj_iou == [] and len(off.func_iou) == 2
    assert dft.obj_labels == [1, 63] and dft.obj_iou == [1.0, 1.0]
    assert score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES, synonyms={}).obj_iou == []


def test_precision_of_an_empty_prediction(word_tok):
    ids = encode(word_tok, "a cat .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off, dft = _both(_maps(4), ids, word_tok, mask)  # all-zero maps: Otsu foreground is empty
    assert off.obj_iou == dft.obj_iou == [0.0]
    assert math.isnan(off.precision[0]) and dft.precision == [0.0]
    assert off.recall == dft.recall == [0.0]


def test_adjacent_words_with_one_label_are_merged(word_tok):
    ids = encode(word_tok, "a tennis racket .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=43)
    maps = _maps(len(ids))
    maps[1] = block(S8, slice(0, 4), slice(0, 8))  # tennis: IoU 0.5
    maps[2] = block(S8, slice(0, 4), slice(0, 4))  # racket: IoU 1
    for s in _both(maps, ids, word_tok, mask):
        assert s.obj_iou == [1.0] and s.obj_labels == [43]
        assert list(s.words.entry.iloc[1:3]) == [0, 0] and list(s.words.iou.iloc[1:3]) == [0.5, 1.0]


def test_official_merge_of_unrelated_entries(word_tok):
    ids = encode(word_tok, "a cat and a skateboard near teddy bear .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    mask[4:, :4] = 41  # no teddy bear in the mask
    maps = _maps(len(ids))
    maps[1] = block(S8, slice(0, 4), slice(0, 4))  # cat: 1.0
    maps[4] = block(S8, slice(4, 8), slice(0, 8))  # skateboard: 0.5
    off, dft = _both(maps, ids, word_tok, mask)
    # "teddy" and "bear" (both teddy bear, absent) add no entry, yet "bear" merges the two previous ones
    assert off.obj_iou == [1.0] and off.obj_labels == [17]
    assert dft.obj_iou == [1.0, 0.5] and dft.obj_labels == [17, 41]


# ---------------------------------------------------------------------------------------------------------------------
# Skip rule, inputs, table
# ---------------------------------------------------------------------------------------------------------------------


def test_skip_rule(word_tok, bpe_tok):
    ids = encode(word_tok, "a cat .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    s = score_caption(_maps(5), ids, word_tok, mask, COCO_CATEGORIES, compat="official")
    assert s.skipped and "ends at token 3" in s.skipped and s.obj_iou == s.func_iou == []
    with pytest.raises(ValueError, match="5 maps for 4 generated tokens"):
        score_caption(_maps(5), ids, word_tok, mask, COCO_CATEGORIES)
    # a non-canonical split of the generated text: re-tokenised, the caption is shorter than the maps
    split = bpe_tok.convert_tokens_to_ids(["a", "\u0120", "c", "a", "t"]) + [bpe_tok.eos_token_id]
    maps = _maps(len(split))
    maps[2:5] = block(S8, slice(0, 4), slice(0, 4))
    off, dft = _both(maps, split, bpe_tok, mask)
    assert off.skipped and dft.skipped is None and dft.obj_iou == [1.0]


def test_float_maps(word_tok):
    ids = encode(word_tok, "a cat .")
    mask = block(S8, slice(0, 4), slice(0, 4), fg=17)
    maps = _maps(4)
    maps[0] = block(S8, slice(0, 4), slice(None), fg=51, bg=102)
    maps[1] = block(S8, slice(0, 4), slice(0, 6), fg=204, bg=0)
    as_float = [m.astype(np.float32) / 255 for m in maps]
    ref = score_caption(maps, ids, word_tok, mask, COCO_CATEGORIES)
    got = score_caption(as_float, ids, word_tok, mask, COCO_CATEGORIES)
    assert (got.obj_iou, got.func_iou, got.fg_threshold) == (ref.obj_iou, ref.func_iou, ref.fg_threshold)
    off = score_caption(np.stack(as_float), ids, word_tok, mask, COCO_CATEGORIES, compat="official")
    assert off.obj_iou == ref.obj_iou
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        score_caption(np.stack(as_float) * 2, ids, word_tok, mask, COCO_CATEGORIES)


def test_bad_inputs(word_tok):
    ids = encode(word_tok, "a cat .")
    mask = np.zeros(S8, np.uint8)
    with pytest.raises(ValueError, match="label_mask"):
        score_caption(_maps(4), ids, word_tok, np.zeros((8, 8, 3), np.uint8), COCO_CATEGORIES)
    with pytest.raises(ValueError, match=r"\[n, h, w\]"):
        score_caption(np.zeros((4, 8), np.uint8), ids, word_tok, mask, COCO_CATEGORIES)
    with pytest.raises(TypeError):
        score_caption(np.zeros((4, 8, 8), bool), ids, word_tok, mask, COCO_CATEGORIES)
    with pytest.raises(ValueError, match="compat"):
        score_caption(_maps(4), ids, word_tok, mask, COCO_CATEGORIES, compat="paper")


def test_words_table(word_tok):
    ids = encode(word_tok, "A cat sitting on a skateboard .")
    s = score_caption(_maps(len(ids)), ids, word_tok, np.zeros(S8, np.uint8), COCO_CATEGORIES)
    t = s.words
    assert list(t.columns[:6]) == ["word", "start", "stop", "pos", "kind", "category"]
    assert list(t.kind) == ["function", "noun", "other", "other", "function", "noun", "other"]
    assert list(t.start) == list(range(7)) and list(t.stop) == list(range(1, 8))
    assert s.caption == "A cat sitting on a skateboard ." and s.compat == "default"
    assert list(t.entry.dropna().astype(int)) == [0, 1]  # the two function words (no category in the mask)
