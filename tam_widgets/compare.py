"""Side-by-side comparison of models on the same pictures and question, word by word.

* :func:`check_comparable`: refuse explanations of different pictures or prompts, naming what differs;
* :func:`align_answers`: one table of the answers' words across N models (tokenizers split text differently,
  so words are aligned, not tokens): a word a model did not say is ``None`` in its column, never matched to
  another word;
* :func:`model_summary`: a model's summary line (answer, mean peak over its object words, share of the
  picture above Otsu for the selected word, top-3 candidates);
* :func:`compare`: run several models one after another on one picture and prompt and open the
  :class:`~tam_widgets.widgets.compare.CompareView`.

Nothing here imports torch: :func:`compare` imports the model stack when called.

>>> from tam_widgets.testing.records import synthetic_record
>>> a = synthetic_record([" A", " black", " cat"])
>>> b = synthetic_record([" a", " cat", " sat"])
>>> al = align_answers([a, b])
>>> al.keys
['a', 'black', 'cat', 'sat']
>>> al.tokens
[[12, 12], [13, None], [14, 13], [None, 14]]
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .record import Explanation
from .words import align_keys, cover_words, normalize_word

if TYPE_CHECKING:  # pragma: no cover
    from .widgets.compare import CompareView

__all__ = [
    "Alignment", "CompareError", "Comparison", "align_answers", "answer_words", "check_comparable", "compare",
    "comparison",
    "default_labels", "model_summary",
    "otsu_share",
]

#: Most models one comparison shows side by side.
MAX_MODELS = 8


class CompareError(RuntimeError):
    """A model of :func:`compare` failed; the explanations of the models before it are kept, not lost.

    Attributes: ``explanations`` (those computed before the failure, in order), ``labels`` (their labels),
    ``failed`` (the model that failed: its id, path or ``Explainer``); the cause is chained (``__cause__``).

    >>> err = CompareError("model 2 failed", [], [], "llava-hf/llava-1.5-7b-hf")
    >>> err.failed, err.explanations
    ('llava-hf/llava-1.5-7b-hf', [])
    """

    def __init__(self, message: str, explanations: list, labels: list, failed: Any) -> None:
        super().__init__(message)
        self.explanations = explanations
        self.labels = labels
        self.failed = failed


# ---------------------------------------------------------------------------------------------------------------------
# What makes explanations comparable
# ---------------------------------------------------------------------------------------------------------------------


def _prompts(exp: Explanation) -> list[str]:
    """The questions asked (metadata ``prompts``; else the prompt tokens' text)."""
    prompts = exp.metadata.get("prompts")
    if isinstance(prompts, list) and all(isinstance(p, str) for p in prompts):
        return [p.strip() for p in prompts]
    return ["".join(t.text for t in exp.tokens if t.role == "prompt").strip()]


def _name(exp: Explanation, k: int, labels: Sequence[str] | None) -> str:
    return repr(labels[k]) if labels is not None else f"explanation {k} ({exp.metadata.get('model_id') or '?'})"


def check_comparable(
    explanations: Sequence[Explanation],
    labels: Sequence[str] | None = None,
    *,
    allow_different_prompts: bool = False,
) -> None:
    """Raise ``ValueError`` naming what differs unless every explanation shows the same pictures and prompt.

    Pictures are compared as stored (same count, size and pixels; every record keeps its pictures
    downscaled the same way whatever the model). ``allow_different_prompts=True`` compares different
    questions about the same pictures on purpose.

    >>> from tam_widgets.testing.records import synthetic_record
    >>> try:
    ...     check_comparable([synthetic_record(), synthetic_record(seed=1)], ["a", "b"])
    ... except ValueError as e:
    ...     print(str(e)[:68])
    'a' and 'b' show different pictures: picture 1 differs in its pixels
    """
    if isinstance(explanations, Explanation) or not isinstance(explanations, Sequence):
        raise TypeError(f"explanations must be a list of Explanation records, got {type(explanations).__name__}")
    for k, exp in enumerate(explanations):
        if not isinstance(exp, Explanation):
            raise TypeError(
                f"explanations[{k}] is a {type(exp).__name__}, not an Explanation (load .tam files with "
                "tw.Explanation.load(path))"
            )
    if not 2 <= len(explanations) <= MAX_MODELS:
        raise ValueError(f"a comparison shows 2 to {MAX_MODELS} explanations, got {len(explanations)}")
    first = explanations[0]
    hint = "compare explanations of the same pictures (same image=/images=/video= for every model)"
    for k, exp in enumerate(explanations[1:], 1):
        who = f"{_name(first, 0, labels)} and {_name(exp, k, labels)}"
        if len(exp.images) != len(first.images):
            raise ValueError(
                f"{who} show different pictures: {len(first.images)} vs {len(exp.images)} pictures; {hint}"
            )
        for i, (a, b) in enumerate(zip(first.images, exp.images)):
            if a.shape != b.shape:
                raise ValueError(
                    f"{who} show different pictures: picture {i + 1} is {a.shape[1]}x{a.shape[0]} vs "
                    f"{b.shape[1]}x{b.shape[0]} pixels; {hint}"
                )
            if not np.array_equal(a, b):
                raise ValueError(f"{who} show different pictures: picture {i + 1} differs in its pixels; {hint}")
        kinds_a = [g.kind for g in first.grids if g.kind != "thumbnail"]
        kinds_b = [g.kind for g in exp.grids if g.kind != "thumbnail"]
        if sorted(set(kinds_a)) != sorted(set(kinds_b)):
            raise ValueError(f"{who} show different inputs: {sorted(set(kinds_a))} vs {sorted(set(kinds_b))}; {hint}")
        pa, pb = _prompts(first), _prompts(exp)
        if pa != pb and not allow_different_prompts:
            raise ValueError(
                f"{who} answer different prompts: {pa!r} vs {pb!r}; pass allow_different_prompts=True to compare "
                "different questions about the same pictures on purpose"
            )


def default_labels(explanations: Sequence[Explanation], labels: Sequence[str] | None = None) -> list[str]:
    """``labels`` checked (one non-empty string per explanation), else each record's model id (last path part),
    made unique with " (2)", " (3)", ...

    >>> from tam_widgets.testing.records import synthetic_record
    >>> default_labels([synthetic_record(), synthetic_record()])
    ['record', 'record (2)']
    """
    n = len(explanations)
    if labels is not None:
        if isinstance(labels, str) or not isinstance(labels, Sequence):
            raise TypeError(f"labels must be a list of {n} strings, got {type(labels).__name__}")
        if len(labels) != n or not all(isinstance(s, str) and s.strip() for s in labels):
            raise ValueError(f"labels must be {n} non-empty strings (one per explanation), got {list(labels)!r}")
        return [str(s) for s in labels]
    out: list[str] = []
    for k, exp in enumerate(explanations):
        base = str(exp.metadata.get("model_id") or f"model {k + 1}").rstrip("/").rsplit("/", 1)[-1] or f"model {k + 1}"
        name, dup = base, 2
        while name in out:
            name, dup = f"{base} ({dup})", dup + 1
        out.append(name)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Words aligned across tokenizers
# ---------------------------------------------------------------------------------------------------------------------


def answer_words(exp: Explanation) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` of the answer's words, in order (words of spaces only left out).

    >>> from tam_widgets.testing.records import small_record
    >>> answer_words(small_record())
    [(12, 13), (13, 14), (14, 15), (15, 16)]
    """
    return _answer_words(exp)[0]


def _answer_words(exp: Explanation) -> tuple[list[tuple[int, int]], list[str], list[str]]:
    """The answer's word ranges, their texts and their normalised texts (:func:`answer_words`)."""
    ranges, texts, keys = [], [], []
    tokens = exp.tokens
    for s, e in cover_words(exp.words, len(tokens)):
        if tokens[s].role != "answer":
            continue
        text = tokens[s].text if e == s + 1 else "".join(t.text for t in tokens[s:e])
        key = normalize_word(text)
        if key:
            ranges.append((s, e))
            texts.append(text)
            keys.append(key)
    return ranges, texts, keys


def word_token(exp: Explanation, start: int, end: int, rows: dict[int, int] | None = None) -> int | None:
    """The token whose map stands for the word ``[start, end)``: its first explained token (the step at which
    the model chose the word), ``None`` when none of its tokens has a map."""
    rows = rows if rows is not None else {int(t): r for r, t in enumerate(exp.explained.tolist())}
    for i in range(start, end):
        if i in rows:
            return i
    return None


@dataclass
class Alignment:
    """The answers' words aligned across models: one entry per aligned word, one column per model.

    ``texts[w]``: the word as the first model that said it wrote it; ``keys[w]``: its normalised text
    (:func:`~tam_widgets.words.normalize_word`, what a typed word is matched against); ``ranges[w][m]``:
    the word's token range ``(start, end)`` in model ``m``'s record, or ``None`` when model ``m`` did not say
    it; ``tokens[w][m]``: the token whose map stands for it there (:func:`word_token`), or ``None``.
    """

    texts: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    ranges: list[list[tuple[int, int] | None]] = field(default_factory=list)
    tokens: list[list[int | None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, word: str, start: int = 0) -> int:
        """Index of the first aligned word (from ``start``, wrapping) whose normalised text is ``word``'s; -1 if none.

        >>> Alignment(["A", " cat"], ["a", "cat"], [[None], [None]], [[None], [None]]).find("Cat")
        1
        """
        key = normalize_word(str(word))
        n = len(self.keys)
        for k in range(n):
            w = (start + k) % n
            if key and self.keys[w] == key:
                return w
        return -1

    def to_json(self) -> dict:
        """What the page gets: ``{texts, keys, ranges: [[[start, end] | null per model] per word], tokens}``."""
        return {
            "texts": list(self.texts),
            "keys": list(self.keys),
            "ranges": [[list(r) if r is not None else None for r in row] for row in self.ranges],
            "tokens": [list(row) for row in self.tokens],
        }


def align_answers(explanations: Sequence[Explanation]) -> Alignment:
    """Align the answers' words of N explanations (a longest-common-subsequence alignment of normalised word
    texts, model after model: each next answer is aligned with the words aligned so far).

    A word is matched only to the same normalised word, in order; a repeated word is matched once per
    occurrence; a word missing from an answer is ``None`` in that model's column.
    """
    words = [_answer_words(exp) for exp in explanations]
    per_model = [w[0] for w in words]
    texts_of = [w[1] for w in words]
    n = len(explanations)
    # columns: per aligned word, the word index in each model (None: absent)
    columns: list[list[int | None]] = [[w] + [None] * (n - 1) for w in range(len(per_model[0]))]
    keys = list(words[0][2])
    for m in range(1, n):
        pairs = align_keys(keys, words[m][2])
        merged: list[list[int | None]] = []
        new_keys: list[str] = []
        for i, j in pairs:
            col = list(columns[i]) if i is not None else [None] * n
            if j is not None:
                col[m] = j
            merged.append(col)
            new_keys.append(keys[i] if i is not None else words[m][2][j])  # type: ignore[index]
        columns, keys = merged, new_keys
    rows = [{int(t): r for r, t in enumerate(exp.explained.tolist())} for exp in explanations]
    token_of = [[word_token(exp, s, e, rows[m]) for s, e in per_model[m]] for m, exp in enumerate(explanations)]
    out = Alignment()
    for col, key in zip(columns, keys):
        first = next(m for m in range(n) if col[m] is not None)
        out.texts.append(texts_of[first][col[first]])  # type: ignore[index]
        out.keys.append(key)
        out.ranges.append([per_model[m][w] if w is not None else None for m, w in enumerate(col)])
        out.tokens.append([token_of[m][w] if w is not None else None for m, w in enumerate(col)])
    return out


@dataclass
class Comparison:
    """Explanations checked to be comparable, their labels and their aligned words (what a CompareView shows)."""

    explanations: list[Explanation]
    labels: list[str]
    alignment: Alignment

    @property
    def methods(self) -> list[str]:
        """The map kinds every explanation has, in the first one's order."""
        return [m for m in self.explanations[0].methods if all(m in e.maps for e in self.explanations[1:])]

    def start_word(self) -> int:
        """The word a view starts on: the first aligned word with a map in every model, else in most models; -1
        when no word has a map."""
        best, count = -1, 0
        for w, toks in enumerate(self.alignment.tokens):
            c = sum(t is not None for t in toks)
            if c > count:
                best, count = w, c
            if c == len(toks):
                break
        return best

    def summaries(self) -> list[dict]:
        """Per model: ``{answer, object_words, mean_peak: {method: float | None}}`` (the summary line's parts that do
        not depend on the selected word; :func:`model_summary` has the rest)."""
        nouns = object_words(self.alignment.texts)
        out = []
        for m, exp in enumerate(self.explanations):
            per = {meth: model_summary(exp, self.alignment, m, -1, meth, nouns) for meth in self.methods}
            first = next(iter(per.values()))
            out.append({
                "answer": first["answer"],
                "object_words": first["object_words"],
                "nouns_known": nouns is not None,
                "mean_peak": {meth: s["mean_peak"] for meth, s in per.items()},
            })
        return out

    def to_json(self) -> dict:
        """What the page gets as ``_compare``: ``{labels, prompts, alignment, summaries}`` (``js/README.md``)."""
        return {
            "labels": list(self.labels),
            "prompts": [" / ".join(_prompts(e)) for e in self.explanations],
            "alignment": self.alignment.to_json(),
            "summaries": self.summaries(),
        }


def comparison(
    explanations: Sequence[Explanation],
    labels: Sequence[str] | None = None,
    *,
    allow_different_prompts: bool = False,
) -> Comparison:
    """Check ``explanations`` (:func:`check_comparable`), label them (:func:`default_labels`) and align their answers.

    >>> from tam_widgets.testing.records import synthetic_record
    >>> c = comparison([synthetic_record([" A", " cat"]), synthetic_record([" the", " cat"])], ["x", "y"])
    >>> c.alignment.keys, c.start_word()
    (['a', 'the', 'cat'], 2)
    """
    check_comparable(explanations, labels, allow_different_prompts=allow_different_prompts)
    names = default_labels(explanations, labels)
    exps = list(explanations)
    if not Comparison(exps, names, Alignment()).methods:
        raise ValueError(f"the explanations share no map kind: {[e.methods for e in exps]}")
    return Comparison(exps, names, align_answers(exps))


# ---------------------------------------------------------------------------------------------------------------------
# Per-model summary
# ---------------------------------------------------------------------------------------------------------------------


def otsu_share(values: np.ndarray) -> float:
    """Share of ``values`` (a map row) above its Otsu threshold, on the row's 0-255 display scale.

    >>> otsu_share(np.array([0, 0, 0, 1.0]))
    0.25
    """
    v = np.asarray(values, np.float64).reshape(-1)
    if v.size == 0:
        return 0.0
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        return 0.0
    u8 = np.rint((v - lo) / (hi - lo) * 255).astype(np.int64)
    hist = np.bincount(u8, minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    s0 = np.cumsum(hist * levels)
    m0 = s0 / np.where(w0 > 0, w0, 1)
    m1 = (s0[-1] - s0) / np.where(w1 > 0, w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    t = int(np.argmax(between))
    return float((u8 > t).mean())


def object_words(texts: Sequence[str]) -> list[bool] | None:
    """Which words are nouns (object words), tagged in context with the metrics' POS tagger; ``None`` when its
    NLTK data is not installed (a view never downloads it: ``python -m nltk.downloader averaged_perceptron_tagger_eng
    wordnet`` or ``NLTK_DATA`` make it available)."""
    try:
        import nltk

        from .metrics.nlp import NLTK_PACKAGES, NLTKDataMissing, tag_sentence
        from .metrics.plausibility import NOUN_TAGS
    except ImportError:
        return None
    try:
        for resource in NLTK_PACKAGES.values():
            nltk.data.find(resource)
    except LookupError:
        return None
    try:
        tags = tag_sentence([normalize_word(t) or t.strip() for t in texts])
    except (NLTKDataMissing, LookupError):
        return None
    return [t in NOUN_TAGS for t in tags]


def model_summary(exp: Explanation, alignment: Alignment, model: int, word: int, method: str,
                  nouns: list[bool] | None = None) -> dict[str, Any]:
    """Model ``model``'s summary line for aligned word ``word`` in ``method``.

    ``{answer, mean_peak (mean of the peak map value over its object words, None without any), object_words,
    token (the word's token or None), otsu_share (of the word's map, None when absent), candidates (top 3:
    [(text, prob)])}``. ``nouns`` (per aligned word) defaults to :func:`object_words` of the alignment's texts.
    """
    rows = {int(t): r for r, t in enumerate(exp.explained.tolist())}
    maps = exp.maps[method] if method in exp.maps else exp.maps[exp.methods[0]]
    if nouns is None:
        nouns = object_words(alignment.texts)
    peaks, names = [], []
    for w, toks in enumerate(alignment.tokens):
        tok = toks[model]
        if tok is not None and nouns is not None and nouns[w]:
            peaks.append(float(np.max(maps[rows[tok]].astype(np.float32))))
            names.append(alignment.keys[w])
    tok = alignment.tokens[word][model] if 0 <= word < len(alignment) else None
    share, cands = None, []
    if tok is not None:
        r = rows[tok]
        share = otsu_share(maps[r].astype(np.float32))
        cands = [(exp.candidate_texts[r][k], float(exp.candidate_probs[r][k]))
                 for k in range(min(3, len(exp.candidate_texts[r]))) if exp.candidate_ids[r][k] >= 0]
    return {
        "answer": exp.answer.strip(),
        "mean_peak": float(np.mean(peaks)) if peaks else None,
        "object_words": names,
        "token": tok,
        "otsu_share": share,
        "candidates": cands,
    }


# ---------------------------------------------------------------------------------------------------------------------
# Running several models
# ---------------------------------------------------------------------------------------------------------------------


def _free() -> None:
    """Give a dropped model's memory back (host and, when there is one, GPU)."""
    gc.collect()
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def compare(
    models: Sequence[Any],
    image: Any = None,
    *,
    images: Sequence[Any] | None = None,
    video: Any = None,
    prompt: str = "",
    labels: Sequence[str] | None = None,
    keep: bool = False,
    progress: bool = True,
    **generation: Any,
) -> CompareView:
    """Explain one picture and prompt with several models, one after another, and open the comparison.

    A model that fails to load or explain raises :class:`CompareError`, which keeps the explanations of the
    models before it (``err.explanations``), so a long run is not lost to its last model.

    ``models``: Hub ids or local paths (loaded with :func:`tam_widgets.explain.load`), or loaded
    :class:`~tam_widgets.explain.Explainer` objects. A model loaded here is freed (``del``, garbage
    collection, ``torch.cuda.empty_cache()``) before the next one loads, so only one is resident at a
    time, unless ``keep=True``. ``generation`` (``max_new_tokens=...``) goes to every model. Returns the
    :class:`~tam_widgets.widgets.compare.CompareView` (labels default to the model ids' last parts).

    Example (illustrative: downloads the models):

    >>> import tam_widgets as tw
    >>> view = tw.compare(["Qwen/Qwen2-VL-2B-Instruct", "OpenGVLab/InternVL3-1B-hf"],
    ...                   image="street.jpg", prompt="Describe the image.", max_new_tokens=32)  # doctest: +SKIP
    >>> view.to_html("compare.html")  # the same comparison as one offline page  # doctest: +SKIP
    """
    if isinstance(models, (str, bytes)) or not isinstance(models, Sequence):
        raise TypeError("models must be a list of model ids / paths or loaded Explainers, e.g. "
                        f"['Qwen/Qwen2-VL-2B-Instruct', 'OpenGVLab/InternVL3-1B-hf'], got {type(models).__name__}")
    if not 2 <= len(models) <= MAX_MODELS:
        raise ValueError(f"compare takes 2 to {MAX_MODELS} models, got {len(models)}")
    if labels is not None:
        labels = default_labels(list(range(len(models))), labels)  # type: ignore[arg-type]
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty string: the question every model answers")
    if image is None and not images and video is None:
        raise ValueError("no picture to explain: pass image=..., images=[...] or video=...")

    from .explain import Explainer, load

    for k, m in enumerate(models):
        if not isinstance(m, (str, Explainer)) and not hasattr(m, "__fspath__"):
            raise TypeError(f"models[{k}] is a {type(m).__name__}; pass a model id / path or a loaded Explainer")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(models), desc="compare", unit="model")
    explanations: list[Explanation] = []
    kept: list[Any] = []
    try:
        for k, m in enumerate(models):
            name = m.model_id if isinstance(m, Explainer) else str(m)
            if bar is not None:
                bar.set_postfix_str(name[-40:])
            explainer = None
            try:
                explainer = m if isinstance(m, Explainer) else load(m)
                explanations.append(explainer.explain(image, prompt, images=images, video=video, **generation))
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as err:
                del explainer
                if not isinstance(m, Explainer):
                    _free()
                done = len(explanations)
                raise CompareError(
                    f"model {k + 1} of {len(models)} ({name!r}) failed: {type(err).__name__}: {err}. "
                    f"The {done} explanation(s) computed before it are kept in this error's .explanations "
                    "(err.explanations[i].save('model_i.tam'), or tw.CompareView(err.explanations) when there are "
                    "two or more); fix the cause and pass only the remaining models to compare again",
                    explanations, [lab for lab in (labels or [])][:done], m,
                ) from err
            if keep or isinstance(m, Explainer):
                kept.append(explainer)
            del explainer
            if not isinstance(m, Explainer) and not keep:
                _free()
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    from .widgets.compare import CompareView

    view = CompareView(explanations, labels=labels)
    view.explainers = kept  # keep=True: the loaded models stay usable (and resident)
    return view
