"""Obj-IoU, Func-IoU and F1-IoU of token activation maps against a label mask (see the package docstring).

>>> import numpy as np
>>> from tokenizers import Tokenizer, models, pre_tokenizers, decoders
>>> from transformers import PreTrainedTokenizerFast
>>> vocab = {w: i for i, w in enumerate(["<unk>", "<|im_end|>", "▁A", "▁dog", "▁."])}
>>> tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
>>> tk.pre_tokenizer, tk.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
>>> tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", unk_token="<unk>")
>>> mask = np.zeros((8, 8), np.uint8); mask[:4, :4] = 18        # a dog in the top-left quarter
>>> maps = np.zeros((4, 8, 8), np.uint8); maps[1, :4, :4] = 200  # "dog" lights up exactly there
>>> s = score_caption(maps, [2, 3, 4, 1], tok, mask, {"dog": 18})
>>> s.obj_iou, s.func_iou
([1.0], [1.0])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
import pandas as pd

from .categories import category_index
from .nlp import ensure_nltk_data, tag_alone, tag_sentence
from .words import Word, default_words, official_words

__all__ = ["FUNCTION_TAGS", "NOUN_TAGS", "CaptionScore", "score_caption", "summarize"]

FUNCTION_TAGS = frozenset({"CC", "DT", "EX", "MD", "POS", "PRP", "PRP$", "UH", "WDT", "WP", "WP$", "WRB"})
"""Penn Treebank tags of function words (IN and CD are left out on purpose, as in the paper).

>>> "DT" in FUNCTION_TAGS, "IN" in FUNCTION_TAGS
(True, False)
"""
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
"""Penn Treebank tags of nouns (the words Obj-IoU scores).

>>> sorted(NOUN_TAGS)
['NN', 'NNP', 'NNPS', 'NNS']
"""

Compat = Literal["default", "official"]
_COLUMNS = [
    "word", "start", "stop", "pos", "kind", "category", "label", "in_mask", "iou", "precision", "recall",
    "best_token", "otsu", "func_score", "entry",
]  # fmt: skip


@dataclass
class CaptionScore:
    """Scores of one sample.

    ``obj_iou`` (with ``precision``, ``recall``, ``obj_labels`` aligned to it) has one entry per scored noun (after
    merging adjacent words with the same label), ``func_iou`` one per function word. ``fg_threshold`` is the
    foreground threshold used for Func-IoU (None without nouns). ``skipped`` holds the reason when the sample was
    skipped (official skip rule), else None. ``words`` is a DataFrame with one row per word; its ``start``/``stop``
    are token indices (of the re-tokenised text in official mode) and ``entry`` the index of the word's entry in
    ``obj_iou`` or ``func_iou``.

    >>> s = CaptionScore(obj_iou=[0.8], func_iou=[0.9, 1.0], precision=[0.7], recall=[0.9], obj_labels=[17],
    ...                  fg_threshold=0.4, caption="A cat on a sofa.", compat="default")
    >>> summarize([s])["f1_iou"] > 0.8
    True
    """

    obj_iou: list[float]
    func_iou: list[float]
    precision: list[float]
    recall: list[float]
    obj_labels: list[int]
    fg_threshold: float | None
    caption: str
    compat: str
    skipped: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @functools.cached_property
    def words(self) -> pd.DataFrame:
        """One row per word: text, token range, POS tag, kind, category, label and the word's scores."""
        return pd.DataFrame(self.rows, columns=_COLUMNS)


def _as_maps(maps: Any, official: bool) -> np.ndarray:
    arr = np.stack([np.asarray(m) for m in maps]) if isinstance(maps, (list, tuple)) and maps else np.asarray(maps)
    if arr.ndim != 3 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ValueError(f"maps must be one 2-D map per generated token ([n, h, w]); got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"maps must be uint8 (0-255) or float (0-1); got dtype {arr.dtype}")
    if arr.size == 0:
        return arr.astype(np.uint8)
    lo, hi = float(arr.min()), float(arr.max())
    if np.issubdtype(arr.dtype, np.integer):
        if lo < 0 or hi > 255:
            raise ValueError(f"integer maps must lie in [0, 255]; got [{lo:g}, {hi:g}]")
        return arr.astype(np.uint8)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"float maps must be finite and lie in [0, 1]; got [{lo:g}, {hi:g}]")
    scaled = np.clip(arr, 0.0, 1.0) * 255.0
    # official: truncation, as TAM's own output conversion; default: rounding
    return (scaled if official else np.rint(scaled)).astype(np.uint8)


def _ids(token_ids: Any) -> list[int]:
    return [int(i) for i in np.asarray(token_ids).reshape(-1).tolist()]


def _kind(tag: str) -> str:
    return "noun" if tag in NOUN_TAGS else "function" if tag in FUNCTION_TAGS else "other"


def score_caption(
    maps: Sequence[np.ndarray] | np.ndarray,
    token_ids: Sequence[int],
    tokenizer: Any,
    label_mask: np.ndarray,
    categories: Mapping[str, int],
    compat: Compat = "default",
    *,
    synonyms: Mapping[str, str | Sequence[str]] | None = None,
) -> CaptionScore:
    """Obj-IoU and Func-IoU entries of one caption.

    Args:
        maps: one map per generated token, ``[n, h, w]`` (uint8 0-255 or float in [0, 1]).
        token_ids: the generated ids, final EOS included (``len(token_ids) == n`` in default mode).
        tokenizer: the model's Hugging Face tokenizer.
        label_mask: 2-D integer array, pixel = category label, 0 = background (the 8-bit label PNG).
        categories: ``{name: label}``, e.g. :data:`COCO_CATEGORIES`.
        compat: ``"default"`` (corrected) or ``"official"`` (the paper's script, quirks included; alias
            ``"reference"``).
        synonyms: default mode only: ``{word: category name(s)}``, None for :data:`SYNONYMS`, ``{}`` for none.

    See the :mod:`tam_widgets.metrics` docstring for the exact rules of each mode.

    Example: a caption whose "cat" map covers the cat exactly (a word-level tokenizer made on the spot):

    >>> from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    >>> from tam_widgets.metrics import COCO_CATEGORIES
    >>> from transformers import PreTrainedTokenizerFast
    >>> words = ["<|im_end|>", "\u2581A", "\u2581cat", "\u2581on", "\u2581a", "\u2581sofa"]
    >>> vocab = {w: i for i, w in enumerate(words)}
    >>> tk = Tokenizer(models.WordLevel(vocab, unk_token="<|im_end|>"))
    >>> tk.pre_tokenizer, tk.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    >>> tokenizer = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>")
    >>> ids = tokenizer(" A cat on a sofa")["input_ids"] + [tokenizer.eos_token_id]
    >>> mask = np.zeros((8, 8), np.uint8); mask[2:6, 2:6] = 17          # the cat (COCO label 17)
    >>> maps = np.zeros((len(ids), 8, 8), np.float32); maps[1, 2:6, 2:6] = 1.0  # " cat" looks at it
    >>> s = score_caption(maps, ids, tokenizer, mask, COCO_CATEGORIES)
    >>> s.obj_iou, s.obj_labels, len(s.func_iou)  # "sofa" -> couch is not in the mask: not scored
    ([1.0], [17], 2)
    """
    if compat == "reference":
        compat = "official"
    if compat not in ("default", "official"):
        raise ValueError(f"compat must be 'default' or 'official'; got {compat!r}")
    official = compat == "official"
    ensure_nltk_data()  # a clear error up front, whatever the caption
    arr = _as_maps(maps, official)
    mask = np.asarray(label_mask)
    if mask.ndim != 2 or not (np.issubdtype(mask.dtype, np.integer) or mask.dtype == bool):
        raise ValueError(f"label_mask must be a 2-D integer array; got shape {mask.shape}, dtype {mask.dtype}")
    index = category_index(categories, synonyms)
    ids = _ids(token_ids)
    caption = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False).strip()

    def result(**kw: Any) -> CaptionScore:
        base: dict[str, Any] = dict(
            obj_iou=[], func_iou=[], precision=[], recall=[], obj_labels=[], fg_threshold=None, caption=caption,
            compat=compat,
        )  # fmt: skip
        base.update(kw)
        return CaptionScore(**base)

    if official:
        words = official_words(ids, tokenizer)
        if not words:
            return result(skipped="no tokens to group into words")
        last = words[-1].tokens[-1]
        if last != len(arr) - 1:
            rows = [dict(word=w.text, start=w.tokens[0], stop=w.tokens[-1] + 1) for w in words]
            return result(
                skipped=f"the re-tokenised caption ends at token {last}, the maps at {len(arr) - 1}", rows=rows
            )
        tags = [tag_alone(w.text) for w in words]
    else:
        if len(ids) != len(arr):
            raise ValueError(f"{len(arr)} maps for {len(ids)} generated tokens: give one map per token")
        words = default_words(ids, tokenizer)
        tags = tag_sentence([w.text for w in words])
    kinds = [_kind(t) for t in tags]
    is_noun = [k == "noun" for k in kinds]
    if official:
        labels = {i: index.official(w.text) for i, w in enumerate(words) if is_noun[i]}
        matched = {i: (index.names[lb], lb) for i, lb in labels.items() if lb > 0}
    else:
        matched = index.default([w.text for w in words], is_noun)
    return _score(arr, mask, words, tags, kinds, matched, official, result)


def _score(arr, mask, words: list[Word], tags, kinds, matched, official: bool, result) -> CaptionScore:
    H, W = mask.shape
    size = (W, H)
    gts: dict[int, tuple[np.ndarray, int]] = {}
    resized: dict[int, np.ndarray] = {}

    def resize(j: int) -> np.ndarray:
        r = resized.get(j)
        if r is None:
            r = resized[j] = cv2.resize(arr[j], size)  # bilinear, uint8 in and out
        return r

    rows: list[dict[str, Any]] = []
    obj: list[list[Any]] = []  # [iou, precision, recall, label, [row indices]]
    noun_thresh: list[float] = []
    prev_label = None  # label of the previous word (None unless a matched noun)
    prev_entry = False  # did the previous word add an Obj-IoU entry?
    for i, w in enumerate(words):
        row: dict[str, Any] = dict(word=w.text, start=w.tokens[0], stop=w.tokens[-1] + 1, pos=tags[i], kind=kinds[i])
        rows.append(row)
        label = None
        added = False
        if kinds[i] == "noun":
            hit = matched.get(i)
            thresh: list[float] = []
            best: tuple[float, float, float, int] | None = None
            if hit is not None:
                row["category"], label = hit
                row["label"] = label
                if label not in gts:
                    gt = (mask == label).astype(np.uint8)
                    gts[label] = (gt, cv2.countNonZero(gt))
                gt, gt_n = gts[label]
                row["in_mask"] = gt_n > 0
                for j in w.tokens:
                    t, pred = cv2.threshold(resize(j), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
                    thresh.append(float(t))
                    if gt_n:
                        tp = cv2.countNonZero(cv2.bitwise_and(gt, pred))
                        pred_n = cv2.countNonZero(pred)
                        iou = tp / (gt_n + pred_n - tp)
                        prec = tp / pred_n if pred_n else (math.nan if official else 0.0)
                        if best is None or iou > best[0]:
                            best = (iou, prec, tp / gt_n, j)
            else:
                for j in w.tokens:
                    thresh.append(float(cv2.threshold(resize(j), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]))
            noun_thresh.append(max(thresh))
            row["otsu"] = max(thresh)
            if best is not None:
                row.update(iou=best[0], precision=best[1], recall=best[2], best_token=best[3])
                obj.append([best[0], best[1], best[2], label, [len(rows) - 1]])
                added = True
            # merge two adjacent words with the same label into one entry keeping the larger IoU. Official: the
            # script checks the labels only, so it also merges the two previous entries when this word was not
            # scored (category absent from the mask); default: only two entries of these two words.
            same = label is not None and prev_label == label
            if len(obj) > 1 and same and (official or (added and prev_entry)):
                a, b = obj[-2], obj[-1]
                keep = b if b[0] > a[0] else a
                obj[-2:] = [[keep[0], keep[1], keep[2], keep[3], a[4] + b[4]]]
        prev_label, prev_entry = label, added
    for e, entry in enumerate(obj):
        for r in entry[4]:
            rows[r]["entry"] = e

    func: list[float] = []
    fg = sum(noun_thresh) / len(noun_thresh) if noun_thresh else None
    if fg is not None:
        fg_floor = float(math.floor(fg))
        for i, w in enumerate(words):
            if kinds[i] != "function":
                continue
            if official:  # un-resized map, strict <
                fr = [int(np.count_nonzero(arr[j] < fg)) / arr[j].size for j in w.tokens]
            else:  # the resized map Otsu saw, background = value <= fg, i.e. not (value > floor(fg)) for uint8
                fr = [1.0 - cv2.countNonZero(_above(resize(j), fg_floor)) / (H * W) for j in w.tokens]
            rows[i].update(func_score=sum(fr) / len(fr), entry=len(func))
            func.append(sum(fr) / len(fr))
    return result(
        obj_iou=[e[0] for e in obj],
        precision=[e[1] for e in obj],
        recall=[e[2] for e in obj],
        obj_labels=[e[3] for e in obj],
        func_iou=func,
        fg_threshold=fg,
        rows=rows,
    )


def _above(m: np.ndarray, t: float) -> np.ndarray:
    return cv2.threshold(m, t, 255, cv2.THRESH_BINARY)[1]  # 255 where value > t (t integer-valued)


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _get(r: Any, key: str, default: Any) -> Any:
    return r.get(key, default) if isinstance(r, Mapping) else getattr(r, key, default)


def summarize(results: Iterable[CaptionScore | Mapping[str, Any] | Any]) -> dict[str, float | int]:
    """Pool many samples as the paper does: means over all words of all samples (not over images).

    ``results``: :class:`CaptionScore` objects, or any objects / mappings with ``obj_iou`` and ``func_iou`` lists
    (``skipped``, ``precision``, ``recall`` optional). ``f1_iou = 2 * obj * func / (obj + func)``. With no word of
    a kind its mean is NaN (no warning), and so is F1; ``obj = func = 0`` gives F1 = 0. ``precision`` / ``recall``
    are pooled over Obj-IoU entries, ignoring the NaN precisions of official mode. Skipped samples are counted in
    ``n_skipped`` and not in ``n_samples``.

    >>> a = CaptionScore([0.5, 1.0], [0.5], [1.0, 1.0], [0.5, 1.0], [17, 18], 80.0, "", "default")
    >>> b = {"obj_iou": [0.0], "func_iou": [0.75, 1.0]}
    >>> s = summarize([a, b])  # (0.5 + 1 + 0) / 3 and (0.5 + 0.75 + 1) / 3, not means of per-image means
    >>> s["obj_iou"], s["func_iou"], round(s["f1_iou"], 6), s["n_obj_words"], s["n_func_words"]
    (0.5, 0.75, 0.6, 3, 3)
    """
    obj: list[float] = []
    func: list[float] = []
    prec: list[float] = []
    rec: list[float] = []
    n = skipped = 0
    for r in results:
        if _get(r, "skipped", None):
            skipped += 1
            continue
        n += 1
        obj.extend(float(x) for x in _get(r, "obj_iou", ()))
        func.extend(float(x) for x in _get(r, "func_iou", ()))
        prec.extend(float(p) for p in _get(r, "precision", ()) if not math.isnan(p))
        rec.extend(float(x) for x in _get(r, "recall", ()))
    o, f = _mean(obj), _mean(func)
    if math.isnan(o) or math.isnan(f):
        f1 = math.nan
    else:
        f1 = 2 * o * f / (o + f) if o + f > 0 else 0.0
    return {
        "obj_iou": o,
        "func_iou": f,
        "f1_iou": f1,
        "n_samples": n,
        "n_obj_words": len(obj),
        "n_func_words": len(func),
        "n_skipped": skipped,
        "precision": _mean(prec),
        "recall": _mean(rec),
    }
