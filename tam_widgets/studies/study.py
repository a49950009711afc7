"""The model of a failure-case study (the board's data; no widget): cases, records, correctness, annotations.

>>> import tempfile
>>> from tam_widgets.studies import Study
>>> folder = Path(tempfile.mkdtemp())
>>> study = Study([{"id": "1", "image": "cat.jpg", "question": "What animal?", "answers": ["cat"] * 10}],
...               store=folder / "annotations.jsonl")
>>> study.annotate("1", reason="missed object", note="only the sofa")["reason"]
'missed object'
>>> list(study.annotations.columns)
['case_id', 'reason', 'note', 'flag', 'token', 'updated']
>>> Study(study.case_list, store=folder / "annotations.jsonl").annotations.note.tolist()  # a new kernel
['only the sofa']
"""

from __future__ import annotations

import collections
import os
import urllib.parse
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import atomic_write
from ..record import Explanation, RecordError, format_prob, legend_text, method_label, provenance
from .cases import Case
from .store import FIELDS, AnnotationStore
from .suggest import LOW_PEAK, suggest_reasons

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_REASONS", "CaseError", "Study", "auto_batch_size"]

DEFAULT_REASONS = (
    "lack of knowledge",
    "question not understood",
    "weak vision-text alignment",
    "synonym / hypernym / hyponym of the answer",
    "answer shifted by context",
    "incomplete ground truth",
    "weak representation",
    "weak action understanding",
    "context not integrated",
    "missed object",
    "other",
)
"""The failure reasons of the paper's analysis (a study's ``reasons`` list is editable).

>>> DEFAULT_REASONS[0], DEFAULT_REASONS[-1]
('lack of knowledge', 'other')
"""
_KEEP: Any = object()


def auto_batch_size(explainer, generation: dict | None = None, *, free_bytes: int | None = None) -> int:
    """How many cases to explain per ``generate``: 1 on a CPU (or another device), and on CUDA what half of
    the free memory holds at a rough per-case cost: the key/value cache and the captured states of
    ``prompt + max_new_tokens`` tokens, taken as 2,048 prompt tokens (a large picture), capped at 64.

    >>> from types import SimpleNamespace
    >>> cpu = SimpleNamespace(model=SimpleNamespace(device=SimpleNamespace(type="cpu")))
    >>> auto_batch_size(cpu)
    1
    """
    model = getattr(explainer, "model", None)
    device = getattr(model, "device", None)
    if getattr(device, "type", "cpu") != "cuda" and free_bytes is None:
        return 1
    import torch

    if free_bytes is None:
        free_bytes, _ = torch.cuda.mem_get_info(device)
    config = model.config
    text = getattr(config, "text_config", config)
    hidden = int(getattr(text, "hidden_size", 4096))
    layers = int(getattr(text, "num_hidden_layers", 32))
    heads = int(getattr(text, "num_attention_heads", 32))
    kv = int(getattr(text, "num_key_value_heads", None) or heads)
    width = next(model.parameters()).element_size()
    settings = {**getattr(explainer, "generation", {}), **(generation or {})}
    tokens = 2048 + int(settings.get("max_new_tokens", 64) or 64)
    per_token = width * (2 * layers * kv * (hidden // heads) + 4 * hidden)  # K and V of every layer, states, slack
    return max(1, min(64, int(free_bytes * 0.5 // (tokens * per_token))))


class CaseError(ValueError):
    """A case could not be shown or explained (its picture or video unreadable, a stale record...).

    >>> study = Study([{"id": "1", "image": "missing.jpg", "question": "What?", "answers": ["cat"]}])
    >>> try:
    ...     study.pictures("1")
    ... except CaseError as e:
    ...     print("missing.jpg" in str(e))
    True
    """


class Study:
    """Cases with lazily computed, cached records, correctness and never-lost annotations.

    Args:
        cases: :class:`Case` objects or plain dicts (see :class:`Case`); ids must be unique.
        explainer: a :class:`tam_widgets.Explainer` (optional): without one, cases without a record can
            still be looked at and annotated.
        store: the annotations file (e.g. ``"study/annotations.jsonl"``); records are cached beside it as
            ``records/<case id>.tam``. Without a store nothing is saved and :meth:`annotate` is refused.
        threshold: a case has failed when its score (VQA accuracy, or 1/0 for STAR) is below this.
        reasons: the reason taxonomy (default :data:`DEFAULT_REASONS`; ``study.reasons`` is a list to edit).
        low_peak: the peak below which the answer words count as answered from the text (suggestions).
        wordnet: whether suggestions use WordNet (NLTK data, downloaded once when missing and ``NLTK_DATA``
            is unset); ``False`` leaves the synonym / hypernym rule out.
        generation: settings for the explainer (``max_new_tokens=...``).

    Example (no model: the predictions are given; with an explainer they come from its records):

    >>> import tempfile
    >>> from tam_widgets.testing.records import picture
    >>> cases = [{"id": "1", "image": picture(32, 32), "question": "What animal?", "answers": ["cat"] * 10,
    ...           "prediction": "dog"},
    ...          {"id": "2", "image": picture(32, 32), "question": "What drink?", "answers": ["coffee"] * 10,
    ...           "prediction": "coffee"}]
    >>> study = Study(cases, store=Path(tempfile.mkdtemp()) / "annotations.jsonl")
    >>> study.cases[["id", "prediction", "score", "correct"]]
      id prediction  score  correct
    0  1        dog    0.0    False
    1  2     coffee    1.0     True
    >>> _ = study.annotate("1", reason="lack of knowledge", note="says dog", flag=True)
    >>> study.annotations[["case_id", "reason", "flag"]].values.tolist()
    [['1', 'lack of knowledge', True]]
    """

    #: records kept in memory with a store (the most recently opened); the others are read from their files again
    KEEP_OPEN = 8

    def __init__(
        self,
        cases: Iterable[Case | dict],
        explainer=None,
        store: str | os.PathLike | None = None,
        *,
        threshold: float = 0.5,
        reasons: Sequence[str] | None = None,
        low_peak: float = LOW_PEAK,
        generation: dict | None = None,
        wordnet: bool = True,
    ):
        self.case_list = [Case.from_dict(c) for c in cases]
        self._by_id: dict[str, Case] = {}
        for c in self.case_list:
            if c.id in self._by_id:
                raise ValueError(f"duplicate case id {c.id!r}: case ids must be unique in a study")
            self._by_id[c.id] = c
        self.explainer = explainer
        self.store = AnnotationStore(store) if store is not None else None
        self.threshold = threshold
        self.reasons = list(DEFAULT_REASONS if reasons is None else reasons)
        if isinstance(low_peak, bool) or not isinstance(low_peak, (int, float)) or not 0 <= low_peak <= 1:
            raise ValueError(f"low_peak must be a number in [0, 1] (TAM's scale), got {low_peak!r}")
        self._low_peak = float(low_peak)
        self.wordnet = bool(wordnet)
        self.generation = dict(generation or {})
        self._summary: dict[str, dict] = {}  # case id -> prediction, score, suggestions (from its record)
        self._open: collections.OrderedDict[str, Explanation] = collections.OrderedDict()  # recently opened
        self.errors: dict[str, str] = {}  # case id -> why it could not be shown or explained

    def __repr__(self) -> str:
        where = f", store={str(self.store.path)!r}" if self.store else ""
        return f"Study({len(self.case_list)} cases{where}, explainer={'yes' if self.explainer else 'no'})"

    def __len__(self) -> int:
        return len(self.case_list)

    @property
    def threshold(self) -> float:
        """Scores below this count as failed (default 0.5)."""
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"threshold must be a number in [0, 1], got {value!r}")
        self._threshold = float(value)

    @property
    def low_peak(self) -> float:
        """The TAM peak below which answer words count as answered from the text (fixed per study)."""
        return self._low_peak

    def case(self, case_id: str | int) -> Case:
        """The case with this id (``KeyError`` naming a few ids otherwise)."""
        try:
            return self._by_id[str(case_id)]
        except KeyError:
            ids = ", ".join(repr(c.id) for c in self.case_list[:5])
            raise KeyError(f"no case {case_id!r} in this study (ids: {ids}, ...)") from None

    # -- pictures and records ---------------------------------------------------------------------
    def pictures(self, case_id: str | int) -> list[np.ndarray]:
        """The case's picture (one item) or its sampled video frames, RGB uint8; :class:`CaseError` if unreadable."""
        from ..datasets.base import read_rgb
        from ..datasets.video import read_video_frames
        from ..pictures import to_rgb8

        c = self.case(case_id)
        try:
            if c.video is not None:
                n = int(c.meta.get("max_frames", 8))
                return read_video_frames(c.video, c.start or 0.0, c.end, n)[0]
            if isinstance(c.image, (str, os.PathLike)):
                return [read_rgb(c.image)]
            return [to_rgb8(c.image)]
        except (OSError, ValueError, TypeError) as e:
            self.errors[c.id] = f"{type(e).__name__}: {e}"
            raise CaseError(
                f"case {c.id!r}: cannot read its {'video' if c.video is not None else 'picture'}: {e}"
            ) from e

    def record_path(self, case_id: str | int) -> Path | None:
        """Where the case's record is cached: ``<store folder>/records/<case id>.tam`` (None without a store)."""
        if self.store is None:
            return None
        name = urllib.parse.quote(self.case(case_id).id, safe="-_.")
        return self.store.path.parent / "records" / f"{name}.tam"

    def _check_record(self, c: Case, exp: Explanation, path: Path) -> Explanation:
        meta = exp.metadata.get("study_case") or {}
        if meta.get("id") != c.id or meta.get("prompt") != c.prompt:
            raise CaseError(
                f"{path} is not the record of case {c.id!r} with prompt {c.prompt!r} (it was made for "
                f"{meta.get('id')!r} / {meta.get('prompt')!r}); delete it to explain the case again"
            )
        model = getattr(self.explainer, "model_id", None)
        if model and exp.metadata.get("model_id") and exp.metadata["model_id"] != model:
            raise CaseError(
                f"{path} was made by {exp.metadata['model_id']!r}, not by this study's explainer {model!r}; "
                "use another store folder for another model, or delete the record"
            )
        made_with = meta.get("generation", {})
        if self.explainer is not None and made_with != self.generation:
            raise CaseError(
                f"{path} was made with the generation settings {made_with}, not this study's {self.generation}; "
                "use the same settings (Study(..., generation=...)) or delete the record to explain the case again"
            )
        return exp

    def cached(self, case_id: str | int) -> bool:
        """Whether the case's record is cached on disk (or held in memory)."""
        path = self.record_path(case_id)
        c = self.case(case_id)
        return c.explanation is not None or c.id in self._open or (path is not None and path.is_file())

    def explanation(self, case_id: str | int, compute: bool = True) -> Explanation | None:
        """The case's record: in memory, else the cached file, else computed now (when ``compute`` and there is
        an explainer) and cached atomically; None when there is none. :class:`CaseError` when it fails."""
        c = self.case(case_id)
        if c.explanation is not None:
            return c.explanation
        if c.id in self._open:
            self._open.move_to_end(c.id)
            return self._open[c.id]
        path = self.record_path(c.id)
        if path is not None and path.is_file():
            try:
                exp = self._check_record(c, Explanation.load(path), path)
            except RecordError as e:
                self.errors[c.id] = str(e)
                raise CaseError(f"case {c.id!r}: its cached record is unreadable ({e}); delete {path}") from e
            except CaseError as e:
                self.errors[c.id] = str(e)
                raise
        elif compute and self.explainer is not None:
            exp = self._compute(c, self.pictures(c.id))
        else:
            return None
        self._open[c.id] = exp
        while self.store is not None and len(self._open) > self.KEEP_OPEN:  # without a store: all kept
            self._open.popitem(last=False)
        self._summarise(c, exp)
        return exp

    def _compute(self, c: Case, pictures: list[np.ndarray]) -> Explanation:
        exp = self._compute_many([c], [pictures])[0]
        if isinstance(exp, CaseError):
            raise exp
        return exp

    def _compute_many(self, cases: list[Case], pictures: list[list[np.ndarray]]) -> list[Explanation | CaseError]:
        """Explain cases (one ``explain_batch`` when there are several) and cache each record atomically;
        a case that fails gives its :class:`CaseError` in its place (and in :attr:`errors`)."""
        requests = [
            {"video": p, "prompt": c.prompt} if c.video is not None else {"image": p[0], "prompt": c.prompt}
            for c, p in zip(cases, pictures)
        ]
        if len(requests) == 1:
            try:
                outs: list = [self.explainer.explain(**requests[0], **self.generation)]
            except (ValueError, TypeError, RuntimeError) as e:
                outs = [e]
        else:
            outs = self.explainer.explain_batch(requests, **self.generation)
        results: list[Explanation | CaseError] = []
        for c, exp in zip(cases, outs):
            if isinstance(exp, Exception):
                self.errors[c.id] = f"{type(exp).__name__}: {exp}"
                err = CaseError(f"case {c.id!r}: explaining it failed: {exp}")
                err.__cause__ = exp
                results.append(err)
                continue
            exp.metadata["study_case"] = {"id": c.id, "prompt": c.prompt, "generation": self.generation}
            path = self.record_path(c.id)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                exp.save(path)
            self.errors.pop(c.id, None)
            results.append(exp)
        return results

    def _batch_size(self, batch_size: int | str, n_todo: int) -> int:
        """``batch_size`` resolved: ``"auto"`` is 1 on a CPU and, on CUDA, what half the free memory holds;
        1 (with a warning saying why) when the explainer or its settings cannot batch."""
        if batch_size == "auto":
            batch_size = auto_batch_size(self.explainer, self.generation)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1 or 'auto', got {batch_size!r}")
        if batch_size == 1 or n_todo < 2:
            return 1
        problem = (
            self.explainer.batch_problem(**self.generation)
            if hasattr(self.explainer, "batch_problem")
            else f"this explainer ({type(self.explainer).__name__}) has no explain_batch"
        )
        if problem:
            warnings.warn(f"precompute explains one case at a time: {problem}", RuntimeWarning, stacklevel=3)
            return 1
        return batch_size

    def precompute(
        self,
        workers: int = 2,
        progress: bool = True,
        shard: tuple[int, int] | None = None,
        ids: Iterable[str] | None = None,
        batch_size: int | str = "auto",
    ) -> dict[str, int]:
        """Explain every case not yet cached (resumable: cached ones are skipped), with a tqdm progress bar.

        ``workers`` threads read and decode pictures and videos ahead of the model. The model explains
        ``batch_size`` cases per ``generate`` (:meth:`tam_widgets.Explainer.explain_batch`: the same
        answers and, up to float rounding, the same maps as one at a time); ``"auto"`` is 1 on a CPU (a
        batch saves little there) and on CUDA what half the free memory holds (:func:`auto_batch_size`).
        When the explainer or its generation settings cannot batch (sampling, beams, ...), the cases
        run one at a time and a warning says why. Each record is cached as soon as its batch is done, so
        a killed precompute loses at most the batch in flight. ``shard=(i, n)`` takes every ``n``-th
        case from ``i`` (default from ``RANK`` / ``WORLD_SIZE`` as set by torchrun / accelerate, like
        ``tam-widgets evaluate``), so ``n`` processes share a study. A case that fails is recorded in
        :attr:`errors` and skipped. A record cached with another prompt, model or generation settings
        is not replaced: opening it is an error on its case that says to delete it. Returns counts
        ``{"computed", "cached", "failed"}``.
        """
        from tqdm.auto import tqdm

        if self.explainer is None:
            raise ValueError("precompute needs an explainer: Study(cases, explainer=tw.load(...), store=...)")
        if self.store is None:
            raise ValueError(
                "precompute needs a store to cache the records in: Study(..., store='study/annotations.jsonl')"
            )
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        if shard is None:
            from ..evaluate import parse_shard

            shard = parse_shard(None)
        i, n = shard
        if not 0 <= i < n:
            raise ValueError(f"shard must satisfy 0 <= i < n, got {shard!r}")
        chosen = self.case_list if ids is None else [self.case(x) for x in ids]
        mine = chosen[i::n]
        todo = [c for c in mine if not self.cached(c.id)]
        counts = {"computed": 0, "cached": len(mine) - len(todo), "failed": 0}
        size = self._batch_size(batch_size, len(todo))
        note = f", {size} per batch" if size > 1 else ""
        bar = tqdm(total=len(todo), desc=f"explaining (shard {i}/{n}{note})", unit="case", disable=not progress)
        with bar, ThreadPoolExecutor(max_workers=workers) as pool:  # the bar closes even when interrupted
            pending: collections.deque = collections.deque()
            it = iter(todo)
            ahead = max(2 * workers, 2 * size)  # pictures read ahead of the model

            def fill() -> None:
                while len(pending) < ahead and (c := next(it, None)) is not None:
                    pending.append((c, pool.submit(self.pictures, c.id)))

            fill()
            while pending:
                batch, pictures = [], []
                while pending and len(batch) < size:
                    c, fut = pending.popleft()
                    try:
                        pictures.append(fut.result())
                        batch.append(c)
                    except CaseError:
                        counts["failed"] += 1
                        bar.update(1)
                fill()
                if not batch:
                    continue
                for c, exp in zip(batch, self._compute_many(batch, pictures)):
                    if isinstance(exp, CaseError):
                        counts["failed"] += 1
                    else:
                        self._summarise(c, exp)
                        counts["computed"] += 1
                bar.update(len(batch))
        if counts["failed"]:
            warnings.warn(f"{counts['failed']} case(s) failed; see study.errors", stacklevel=2)
        return counts

    # -- answers, correctness, suggestions -----------------------------------------------------------
    def _summarise(self, c: Case, exp: Explanation | None) -> dict:
        prediction = exp.answer.strip() if exp is not None else c.prediction
        if prediction is None:
            summary = {"prediction": None, "score": None, "suggestions": []}
        else:
            summary = {"prediction": prediction, "score": c.score(prediction)}
            summary["suggestions"] = suggest_reasons(c, exp, prediction, low_peak=self.low_peak,
                                                     wordnet=self.wordnet)
        self._summary[c.id] = summary
        return summary

    def result(self, case_id: str | int) -> dict:
        """``{"prediction", "score", "correct", "suggestions"}`` of a case, from its record when there is one
        (loaded from the cache if needed, never computed here) or its given ``prediction``; None values
        when unknown. ``suggestions`` are listed for failed cases only."""
        c = self.case(case_id)
        if c.id not in self._summary:
            exp = None
            try:
                exp = self.explanation(c.id, compute=False)
            except CaseError:
                pass
            if c.id not in self._summary:
                self._summarise(c, exp)
        s = dict(self._summary[c.id])
        s["correct"] = None if s["score"] is None else bool(s["score"] >= self.threshold)
        if s["correct"] is not False:
            s["suggestions"] = []
        return s

    def suggestions(self, case_id: str | int) -> list[dict]:
        """Suggested reasons with evidence for a failed case (see :mod:`tam_widgets.studies.suggest`)."""
        return self.result(case_id)["suggestions"]

    # -- annotations -------------------------------------------------------------------------------
    def _require_store(self) -> AnnotationStore:
        if self.store is None:
            raise ValueError(
                "this study has no store: Study(cases, store='study/annotations.jsonl') to keep annotations"
            )
        return self.store

    def annotate(self, case_id: str | int, *, reason=_KEEP, note=_KEEP, flag=_KEEP, token=_KEEP) -> dict:
        """Set a case's reason (one of :attr:`reasons`, or None), note, flag and the token the reason is about.

        Fields left out keep their value. Durable when this returns (see :class:`AnnotationStore`).
        Returns the case's annotation.
        """
        store = self._require_store()
        c = self.case(case_id)
        changes: dict[str, Any] = {}
        if reason is not _KEEP:
            if reason is not None and reason not in self.reasons:
                raise ValueError(
                    f"unknown reason {reason!r}; reasons are {self.reasons} (add one with study.reasons.append(...))"
                )
            changes["reason"] = reason
        if note is not _KEEP:
            if not isinstance(note, str):
                raise TypeError(f"note must be a str, got {type(note).__name__}")
            changes["note"] = note
        if flag is not _KEEP:
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"flag must be True or False, got {flag!r}")
            changes["flag"] = bool(flag)
        if token is not _KEEP:
            if token is not None:
                if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)):
                    raise TypeError(f"token must be a token index (int) or None, got {token!r}")
                try:
                    exp = self.explanation(c.id, compute=False)
                except CaseError:
                    exp = None
                if exp is not None:
                    token = exp.token_index(int(token))
                token = int(token)
            changes["token"] = token
        if not changes:
            raise ValueError("nothing to annotate: pass reason=, note=, flag= or token=")
        return store.put(c.id, **changes)

    @property
    def annotations(self) -> pd.DataFrame:
        """A row per annotated case: ``case_id``, ``reason``, ``note``, ``flag``, ``token`` (nullable ``Int64``),
        ``updated`` (UTC ISO time).

        Read from the store each time (another notebook's annotations show too); rows of case ids not in
        this study are kept.
        """
        import pandas as pd

        rows = list(self.store.read().values()) if self.store is not None else []
        types = {"case_id": object, "reason": object, "note": object, "flag": bool, "token": "Int64", "updated": object}
        return pd.DataFrame({k: pd.Series([r[k] for r in rows], dtype=types[k]) for k in FIELDS})

    def compact(self) -> int:
        """Rewrite the store with one row per case (atomically); the number of cases kept."""
        return self._require_store().compact()

    # -- tables and exports -------------------------------------------------------------------------
    @property
    def cases(self) -> pd.DataFrame:
        """A row per case: id, kind, question type, question, ground truth, prediction, score, correct, cached,
        error, suggestions (reason names), and the annotation (reason, note, flag, token). ``score`` is NaN,
        ``correct`` and ``token`` ``pd.NA``, and text columns None when unknown.

        Cached records are read once to know their answers (never computed here)."""
        import pandas as pd

        notes = self.store.read() if self.store is not None else {}
        rows = []
        for c in self.case_list:
            r = self.result(c.id)
            a = notes.get(c.id, {})
            rows.append(
                {
                    "id": c.id,
                    "kind": c.kind,
                    "question_type": c.question_type,
                    "question": c.question,
                    "ground_truth": c.ground_truth,
                    "prediction": r["prediction"],
                    "score": r["score"],
                    "correct": r["correct"],
                    "cached": self.cached(c.id),
                    "error": self.errors.get(c.id),
                    "suggestions": [s["reason"] for s in r["suggestions"]],
                    "reason": a.get("reason"),
                    "note": a.get("note", ""),
                    "flag": bool(a.get("flag", False)),
                    "token": a.get("token"),
                }
            )
        types = {"score": "float64", "correct": "boolean", "cached": bool, "flag": bool, "token": "Int64"}
        cols = list(rows[0]) if rows else ["id"]
        return pd.DataFrame({k: pd.Series([r[k] for r in rows], dtype=types.get(k, object)) for k in cols})

    def export_annotations(self, path: str | os.PathLike) -> Path:
        """Write the annotations as ``.csv`` or ``.jsonl`` (by the suffix), atomically; the path."""
        path = Path(path)
        df = self.annotations
        if path.suffix.lower() == ".csv":
            data = df.to_csv(index=False).encode("utf-8")
        elif path.suffix.lower() in (".jsonl", ".json"):
            data = df.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
        else:
            raise ValueError(f"export annotations to a .csv or .jsonl file, got {path.name!r}")
        return atomic_write(path, lambda f: f.write(data))

    def figure(self, case_ids: Sequence[str | int], method: str = "tam", tokens: dict | None = None):
        """A paper-style figure (Fig. 24/25) of the cases: a row each, the picture with the chosen token's map
        and the question, answer, the token's candidates, ground truth, reason and note.

        The token is ``tokens[case_id]``, else the annotation's token, else the first suggestion's, else
        the first explained answer token; a video shows its middle frame. Records are computed if needed
        (an explainer is then required). The colour scale's meaning is the legend of the record views
        (:func:`~tam_widgets.record.legend_text`); an untrained model's or synthetic record's warning shows.
        """
        import textwrap

        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from ..record.figure import new_figure

        ids = [str(x) for x in case_ids]
        if not ids:
            raise ValueError("no case to draw: pass case ids, e.g. study.cases.query('correct == False').id[:4]")
        tokens = {str(k): v for k, v in (tokens or {}).items()}
        notes = self.store.read() if self.store is not None else {}
        rows = []
        for cid in ids:
            c = self.case(cid)
            exp = self.explanation(cid)
            if exp is None:
                raise ValueError(f"case {cid!r} has no record yet and the study has no explainer to compute one")
            r, a = self.result(cid), notes.get(c.id, {})
            tok = tokens.get(c.id, a.get("token"))
            if tok is None:
                tok = next((x["token"] for x in r["suggestions"] if "token" in x), None)
            if tok is None:
                answer = [int(i) for i in exp.explained if exp.tokens[int(i)].role == "answer"]
                if not answer:
                    raise ValueError(f"case {cid!r}: its record has no explained answer token to show")
                tok = answer[0]
            tok = exp.token_index(int(tok))
            row = exp._row(tok)  # ValueError listing the explained tokens when this one has no map
            g = exp.grids[0]
            frame = len(g.frames) // 2
            picture = exp.overlay(tok, method, 0, frame)
            where = f", frame {frame + 1} of {len(g.frames)}" if len(g.frames) > 1 else ""
            cands = [
                f"{t!r} {format_prob(float(p))}"
                for i, t, p in zip(exp.candidate_ids[row], exp.candidate_texts[row], exp.candidate_probs[row])
                if int(i) >= 0
            ]
            if c.choices:
                truth = c.answer
            else:
                truth = ", ".join(f"{x} ×{n}" for x, n in collections.Counter(c.answers).most_common(4))
            verdict = "?" if r["correct"] is None else ("correct" if r["correct"] else "failed")
            score = "" if r["score"] is None else f" (score {r['score']:.2f}, {verdict})"
            fields = [
                ("Case", c.id + (f" · {c.question_type}" if c.question_type else "")),
                ("Question", c.question),
                ("Answer", f"{r['prediction']}{score}"),
                ("Candidates", "  ".join(cands) or "none (not a generated token)"),
                ("Ground truth", truth),
                ("Reason", a.get("reason") or "—"),
                ("Note", a.get("note") or "—"),
            ]
            lines = [
                (label if k == 0 else "", w)
                for label, text in fields
                for k, w in enumerate(textwrap.wrap(str(text), 62) or [""])
            ]
            title = f"{method_label(method)} of {exp.tokens[tok].label!r} (token {tok}){where}"
            rows.append((picture, title, lines, provenance(exp.metadata)))

        img_w, txt_w, margin, line_h, title_h, gap = 3.6, 5.6, 0.15, 0.21, 0.3, 0.3
        heights = []
        for picture, _, lines, warning in rows:
            img_h = img_w * min(picture.shape[0] / picture.shape[1], 1.3) + title_h
            heights.append(max(img_h, (len(lines) + (2 if warning else 0)) * line_h + 0.1))
        legend_h = 0.45
        fig_w = 2 * margin + img_w + 0.3 + txt_w
        fig_h = margin + sum(heights) + gap * (len(rows) - 1) + legend_h
        fig = new_figure(figsize=(fig_w, fig_h), dpi=100)
        FigureCanvasAgg(fig)
        kw = dict(usetex=False, parse_math=False)
        top = margin
        for (picture, title, lines, warning), h in zip(rows, heights):
            img_h = img_w * min(picture.shape[0] / picture.shape[1], 1.3)
            ax = fig.add_axes((margin / fig_w, 1 - (top + title_h + img_h) / fig_h, img_w / fig_w, img_h / fig_h))
            ax.imshow(picture)
            ax.set_axis_off()
            ax.set_title(title, fontsize=9, **kw)
            tx = fig.add_axes(((margin + img_w + 0.3) / fig_w, 1 - (top + h) / fig_h, txt_w / fig_w, h / fig_h))
            tx.set_axis_off()
            tx.set_xlim(0, txt_w)
            tx.set_ylim(h, 0)
            y = 0.05
            for label, text in lines:
                if label:
                    tx.text(0, y, f"{label}:", fontsize=9, fontweight="bold", va="top", **kw)
                tx.text(1.15, y, text, fontsize=9, va="top", **kw)
                y += line_h
            if warning:
                tx.text(0, y + 0.1, f"⚠ {warning}", fontsize=8.5, color="#b00020", fontweight="bold", va="top", **kw)
            top += h + gap
        fig.text(margin / fig_w, 0.12 / fig_h, f"Colour: {legend_text(method)}", fontsize=7.5, color="0.3", **kw)
        return fig

    def export_figure(self, case_ids: Sequence[str | int], path: str | os.PathLike, **kw) -> Path:
        """Save :meth:`figure` as PNG or PDF (by the suffix), atomically; the path."""
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("png", "pdf"):
            raise ValueError(f"export the figure to a .png or .pdf file, got {path.name!r}")
        fig = self.figure(case_ids, **kw)
        return atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=150, bbox_inches="tight"))
