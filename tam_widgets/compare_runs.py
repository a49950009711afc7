"""Models side by side across a data set: the Table 3/6 numbers and per-word grounding of several evaluation runs.

    import tam_widgets as tw
    runs = tw.compare_runs(["runs/qwen", "runs/internvl", "runs/llava"], min_count=5)
    runs                       # in a notebook: both tables, each word opens the samples behind it
    runs.table                 # Obj-IoU, Func-IoU, F1-IoU (and METEOR, ...), samples: one row per model
    runs.words                 # per word: each model's mean Obj-IoU (nouns) or Func-IoU (function words)
    runs.best("qwen", 10); runs.worst("qwen", 10); runs.samples("dog")
    runs.figure().savefig("words.pdf")
    runs.open("42")            # the three models' records of sample 42 in a CompareView

Each folder is what ``tam-widgets evaluate --out DIR`` wrote. Its rows are pooled by
:func:`tam_widgets.evaluate.pool`, the code that writes ``summary.json``, so ``.table`` holds the numbers
evaluate reports. A folder that is not a finished run (no ``run.json``, a shard without its ``.done``
marker or results file, a shard being written) is refused, and so are runs of different data sets or
metric rules (``compat``).

Per word: every Obj-IoU entry of a result row is a scored noun (two merged nouns such as "tennis racket"
make one entry) and every Func-IoU entry a function word; rows name their words under ``obj_words`` /
``func_words``. A word's mean for a model is the mean over all its entries in that model's scored captions,
defined when the word occurs in at least ``min_count`` of them (one rule for the table, ``best``/``worst`` and
the figure). Result files written before rows named their words still give the table; their words are
left out, with a note.
"""

from __future__ import annotations

import difflib
import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .evaluate import SETTINGS_FILE, EvaluationError, _read_settings, pool
from .io import flock

if TYPE_CHECKING:
    import pandas as pd

    from .record import Explanation

__all__ = ["RunComparison", "RunComparisonError", "compare_runs"]

#: The columns of :attr:`RunComparison.table`: header and ``summary.json`` key, in the paper's order.
TABLE_COLUMNS = (
    ("Obj-IoU", "obj_iou"),
    ("Func-IoU", "func_iou"),
    ("F1-IoU", "f1_iou"),
    ("METEOR", "meteor"),
    ("ROUGE-L", "rouge_l"),
    ("VQA acc", "vqa_accuracy"),
)
#: Settings that must agree for runs to be compared (the samples and the metric rules).
SAME_SETTINGS = ("dataset", "dataset_size", "compat")
KINDS = {"object": ("obj_iou", "obj_words", "Obj-IoU"), "function": ("func_iou", "func_words", "Func-IoU")}
_HTML_WORDS = 300  # words shown in the notebook table (all of them are in .words)
_HTML_SAMPLES = 12  # samples listed per word and model in the notebook table

#: The notebook table's style (colours inherited, so it reads on light and dark themes).
_CSS = (
    ".tam-runs{font-size:13px;color:inherit}.tam-runs table{border-collapse:collapse;margin:4px 0 10px}"
    ".tam-runs th,.tam-runs td{padding:2px 8px;text-align:right;vertical-align:top;"
    "border-bottom:1px solid rgba(128,128,128,.3)}.tam-runs td.w,.tam-runs th.w{text-align:left}"
    ".tam-runs .best{font-weight:bold}.tam-runs .na{opacity:.5}.tam-runs summary{cursor:pointer}"
    ".tam-runs details ul{margin:2px 0 4px;padding-left:18px;font-size:12px;text-align:left}"
    ".tam-runs .note{opacity:.8;font-size:12px}.tam-runs img{max-width:100%;height:auto}"
)
#: The offline page's own style: light, or dark when the reader's system is.
_PAGE_CSS = (
    "body{margin:16px;font-family:system-ui,sans-serif;background:#fff;color:#1a1a1a}"
    "@media (prefers-color-scheme:dark){body{background:#161616;color:#e0e0e0}}"
)


class RunComparisonError(ValueError):
    """Evaluation runs cannot be compared as asked (not a finished run, different data sets or metrics)."""


@dataclass(frozen=True)
class Run:
    """One finished evaluation folder: its settings, pooled summary and rows (one per sample, in id order)."""

    path: Path
    settings: dict
    summary: dict
    rows: list[dict]


def read_run(path: str | os.PathLike) -> Run:
    """Read a finished evaluation folder (refusing one that is not a run, unfinished or being written).

    >>> read_run("/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    tam_widgets.compare_runs.RunComparisonError: /nonexistent is not a directory; give the --out folder of ...
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"a run is a folder path (str or Path), got {type(path).__name__}")
    out = Path(path)
    if not out.is_dir():
        raise RunComparisonError(f"{out} is not a directory; give the --out folder of `tam-widgets evaluate`")
    if not (out / SETTINGS_FILE).is_file():
        raise RunComparisonError(
            f"{out} is not an evaluation run: it has no {SETTINGS_FILE} (the folder `tam-widgets evaluate --out` "
            "writes its settings and results to)"
        )
    try:
        record = _read_settings(out)
        assert record is not None
        settings = record["settings"]
        n = int(settings["shards"])
        size = int(settings["dataset_size"])
    except (EvaluationError, KeyError, TypeError, ValueError) as e:
        raise RunComparisonError(f"{out}: cannot read its settings ({e})") from None
    for lock in sorted(out.glob(f"results-*-of-{n}.lock")):
        try:
            with flock(lock, blocking=False):
                pass
        except BlockingIOError:
            raise RunComparisonError(
                f"{out} is still being written ({lock.name} is held by a running evaluation); "
                "compare it when that process has finished"
            ) from None
        except OSError:
            pass  # a read-only folder: nobody is writing it
    unfinished = [f"{i}/{n}" for i in range(n) if not (out / f"results-{i}-of-{n}.done").exists()]
    if unfinished:
        raise RunComparisonError(
            f"{out} is not finished: shard(s) {', '.join(unfinished)} have no results-<i>-of-{n}.done marker "
            "(still running, stopped or never started); finish them with the same `tam-widgets evaluate` "
            "command (it resumes), then compare"
        )
    missing = [
        f"results-{i}-of-{n}.jsonl" for i in range(min(n, size)) if not (out / f"results-{i}-of-{n}.jsonl").exists()
    ]
    if missing:
        raise RunComparisonError(
            f"{out} is missing result file(s) {', '.join(missing)} of shards marked done; "
            "restore them or run those shards again"
        )
    try:
        pooled = pool(out, n)
    except EvaluationError as e:
        raise RunComparisonError(str(e)) from None
    except (TypeError, ValueError) as e:  # a row whose scores are not numbers
        raise RunComparisonError(
            f"{out}: its result rows cannot be pooled ({type(e).__name__}: {e}); a results file was edited or "
            "damaged: restore it, or run the evaluation again with --force-new"
        ) from None
    assert pooled is not None  # every marker exists
    summary, rows = pooled
    return Run(out, settings, summary, rows)


def _default_labels(runs: list[Run]) -> list[str]:
    """Each run's model name (the last part of its id), else its folder name, else its path."""
    models = [str(r.settings.get("model", "")).rstrip("/").split("/")[-1] for r in runs]
    if all(models) and len(set(models)) == len(models):
        return models
    names = [r.path.resolve().name for r in runs]
    if all(names) and len(set(names)) == len(names):
        return names
    return [str(r.path) for r in runs]


def _check_comparable(runs: list[Run]) -> None:
    first = runs[0]
    for r in runs[1:]:
        diffs = [
            f"{k}: {first.settings.get(k)!r} in {first.path}, {r.settings.get(k)!r} in {r.path}"
            for k in SAME_SETTINGS
            if first.settings.get(k) != r.settings.get(k)
        ]
        if diffs:
            raise RunComparisonError(
                "these runs cannot be compared: " + "; ".join(diffs) + ". Compare runs of one data set "
                "scored with one --compat (rerun `tam-widgets evaluate` with the same --dataset/--root/--compat)"
            )


def compare_runs(
    runs: Sequence[str | os.PathLike],
    labels: Sequence[str] | None = None,
    min_count: int = 5,
) -> RunComparison:
    """Compare evaluation runs of several models on one data set (what ``tam-widgets evaluate --out`` wrote).

    Args:
        runs: 2 or more run folders (one is allowed, to look at one model's words).
        labels: a name per run (default: each run's model name).
        min_count: a word's mean is shown for a model when the word occurs in at least this many of that
            model's scored captions.

    Example (illustrative: needs folders written by ``tam-widgets evaluate``)::

        cmp = compare_runs(["runs/qwen", "runs/llava"], min_count=3)
        cmp.table, cmp.words, cmp.best("qwen", 5), cmp.samples("dog")
    """
    if isinstance(runs, (str, os.PathLike)) or not isinstance(runs, Sequence):
        raise TypeError("runs must be a list of run folders, e.g. compare_runs(['runs/qwen', 'runs/llava'])")
    if not runs:
        raise ValueError("no runs given; pass the --out folders of `tam-widgets evaluate`")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a whole number >= 1 (captions), got {min_count!r}")
    for p in runs:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"a run is a folder path (str or Path), got {type(p).__name__}")
    paths = [Path(os.fspath(p)) for p in runs]
    seen: set[Path] = set()
    for p in paths:
        if p.resolve() in seen:
            raise RunComparisonError(f"{p} is given twice; each run once")
        seen.add(p.resolve())
    read = [read_run(p) for p in paths]
    _check_comparable(read)
    if labels is None:
        names = _default_labels(read)
    else:
        given = None if isinstance(labels, str) else list(labels) if hasattr(labels, "__iter__") else None
        if given is None or len(given) != len(read):
            raise ValueError(f"labels must be a list of {len(read)} names, one per run; got {labels!r}")
        names = [str(x) for x in given]
        if len(set(names)) != len(names) or not all(names):
            raise ValueError(f"labels must be distinct and non-empty; got {names!r}")
    return RunComparison(read, names, min_count)


def _word_key(text: str) -> str:
    return " ".join(str(text).lower().split())


class RunComparison:
    """Several evaluation runs side by side (made by :func:`compare_runs`; see the module docstring).

    Example (illustrative: needs finished evaluation folders)::

        cmp = compare_runs(["runs/qwen2vl", "runs/llava"], labels=["Qwen2-VL", "LLaVA"])
        cmp.table  # Obj-IoU, Func-IoU, F1-IoU per model, as in the paper's Table 3
        cmp.best("Qwen2-VL", 5), cmp.samples("dog")
        cmp.open(cmp.samples("dog").id[0])  # one sample's records (--save-records)
    """

    def __init__(self, runs: list[Run], labels: list[str], min_count: int):
        taken = {"word", "kind"} | {f"{lb} n" for lb in labels}
        clash = [lb for lb in labels if lb in taken]
        if clash:
            raise ValueError(f"labels {clash} clash with the columns of .words; pass other labels=[...]")
        self.runs = runs
        self.labels = list(labels)
        self.min_count = min_count
        #: why some results are missing (e.g. a run written before rows named their words)
        self.notes: list[str] = []
        # (label, kind, word) -> list of (sample id, mean of the word's entries in that sample)
        self._entries: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
        # (label, kind, word) -> (sum, count) over every entry: a word's mean pools entries, not captions
        self._sums: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._captions: dict[str, dict[str, str]] = {}
        for run, label in zip(runs, labels):
            self._collect(run, label)
        ids = [{r["id"] for r in run.rows} for run in runs]
        if len(runs) > 1 and any(s != ids[0] for s in ids[1:]):
            common = set.intersection(*ids)
            self.notes.append(
                f"the runs scored different samples ({', '.join(f'{lb}: {len(s)}' for lb, s in zip(labels, ids))}; "
                f"{len(common)} in common): a --limit, failed samples or an unfinished resume; the numbers are "
                "each run's own"
            )

    def _collect(self, run: Run, label: str) -> None:
        captions = self._captions.setdefault(label, {})
        old = bad = 0
        for row in run.rows:
            captions[row["id"]] = str(row.get("caption", ""))
            if row.get("skipped") or "obj_iou" not in row:
                continue
            per: dict[tuple[str, str], list[float]] = {}
            unnamed = damaged = False
            for kind, (iou_key, words_key, _) in KINDS.items():
                ious, words = row.get(iou_key) or [], row.get(words_key)
                if words is None:
                    unnamed |= bool(ious)
                elif not isinstance(words, list) or not isinstance(ious, list) or len(words) != len(ious):
                    damaged = True
                else:
                    for w, v in zip(words, ious):
                        if isinstance(v, (int, float)) and not isinstance(v, bool) and _word_key(w):
                            per.setdefault((kind, _word_key(w)), []).append(float(v))
            old += unnamed
            bad += damaged and not unnamed
            if unnamed or damaged:
                continue
            for (kind, word), values in per.items():
                key = (label, kind, word)
                self._entries.setdefault(key, []).append((row["id"], sum(values) / len(values)))
                total, count = self._sums.get(key, (0.0, 0))
                self._sums[key] = (total + sum(values), count + len(values))
        if old:
            self.notes.append(
                f"{label}: {old} result row(s) in {run.path} do not name their words (written by an older "
                "tam-widgets), so their words are left out; rerun evaluate with --force-new for per-word results"
            )
        if bad:
            self.notes.append(f"{label}: {bad} result row(s) in {run.path} have damaged word lists; left out")

    def _label(self, model: str | int) -> str:
        if isinstance(model, int) and not isinstance(model, bool):
            if not -len(self.labels) <= model < len(self.labels):
                raise IndexError(f"model {model} out of range: there are {len(self.labels)} runs")
            return self.labels[model]
        if model not in self.labels:
            raise KeyError(f"no run labelled {model!r}; the labels are {self.labels}")
        return str(model)

    # -- tables ----------------------------------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """The Table 3/6 numbers per model (fractions 0-1, as ``summary.json``), with each run's sample count.

        Columns: Obj-IoU, Func-IoU, F1-IoU (and METEOR, ROUGE-L, VQA acc when the data set has them), samples,
        object_words and function_words (the entries pooled), failed, method, compat, path; one row per label.
        """
        import pandas as pd

        present = [(h, k) for h, k in TABLE_COLUMNS if any(k in r.summary for r in self.runs)]
        data = []
        for run in self.runs:
            s = run.summary
            row: dict[str, Any] = {h: (math.nan if s.get(k) is None else float(s[k])) for h, k in present}
            row.update(
                samples=int(s.get("n_samples", 0)),
                object_words=int(s.get("n_obj_words", 0)),
                function_words=int(s.get("n_func_words", 0)),
                failed=int(s.get("n_failed", 0)),
                method=run.settings.get("method"),
                compat=run.settings.get("compat"),
                path=str(run.path),
            )
            data.append(row)
        return pd.DataFrame(data, index=pd.Index(self.labels, name="model"))

    @property
    def words(self) -> pd.DataFrame:
        """Per word: ``word``, ``kind`` (object: Obj-IoU; function: Func-IoU), then per model its mean IoU (column
        ``<label>``, NaN below ``min_count`` captions) and ``<label> n`` (the captions it occurs in).

        Words that occur in at least ``min_count`` captions of at least one model; object words first, then by
        how often they occur.
        """
        import pandas as pd

        keys = sorted({(kind, word) for (_, kind, word) in self._entries})
        rows = []
        for kind, word in keys:
            row: dict[str, Any] = {"word": word, "kind": kind}
            total = 0
            keep = False
            for label in self.labels:
                n = len(self._entries.get((label, kind, word), ()))
                s, m = self._sums.get((label, kind, word), (0.0, 0))
                row[label] = s / m if n >= self.min_count and m else math.nan
                row[f"{label} n"] = n
                total += n
                keep |= n >= self.min_count
            if keep:
                rows.append((kind != "object", -total, word, row))
        rows.sort(key=lambda x: x[:3])
        columns = ["word", "kind"] + [c for lb in self.labels for c in (lb, f"{lb} n")]
        frame = pd.DataFrame([r[3] for r in rows], columns=columns)
        for lb in self.labels:
            frame[lb] = frame[lb].astype(float)
            frame[f"{lb} n"] = frame[f"{lb} n"].astype(int)
        return frame

    def _ranked(self, model: str | int, n: int, kind: str | None, ascending: bool) -> pd.DataFrame:
        label = self._label(model)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a whole number >= 1, got {n!r}")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be None, 'object' or 'function'; got {kind!r}")
        w = self.words
        w = w[w[label].notna()]
        if kind is not None:
            w = w[w["kind"] == kind]
        w = w[["word", "kind", label, f"{label} n"]].rename(columns={label: "iou", f"{label} n": "captions"})
        return (
            w.sort_values(["iou", "captions", "word"], ascending=[ascending, False, True])
            .head(n)
            .reset_index(drop=True)
        )

    def best(self, model: str | int, n: int = 10, kind: str | None = None) -> pd.DataFrame:
        """The ``n`` words ``model`` (a label or index) grounds best: ``word``, ``kind``, ``iou``, ``captions``.

        ``kind``: ``"object"`` or ``"function"`` (their IoUs are different measures), None for both.

            cmp.best("Qwen2-VL-2B", 5, kind="object")
        """
        return self._ranked(model, n, kind, ascending=False)

    def worst(self, model: str | int, n: int = 10, kind: str | None = None) -> pd.DataFrame:
        """The ``n`` words ``model`` grounds worst (as :meth:`best`, lowest IoU first)."""
        return self._ranked(model, n, kind, ascending=True)

    def samples(self, word: str) -> pd.DataFrame:
        """The samples behind ``word``, per model: ``model``, ``id``, ``kind``, ``iou`` (the word's mean IoU in
        that caption), ``caption``, ``record`` (whether the run stored the sample's record); best first per model.

            cmp.samples("dog").query("model == 'LLaVA-1.5-7B'")
        """
        import pandas as pd

        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        key = _word_key(word)
        known = sorted({w for (_, _, w) in self._entries})
        if key not in known:
            close = difflib.get_close_matches(key, known, n=5)
            hint = f"; close: {', '.join(close)}" if close else ""
            raise KeyError(f"no model scored the word {word!r} in any caption{hint}")
        stored = {lb: {r["id"]: bool(r.get("record")) for r in run.rows} for lb, run in zip(self.labels, self.runs)}
        data = []
        for label in self.labels:
            for kind in KINDS:
                for sid, iou in sorted(self._entries.get((label, kind, key), ()), key=lambda e: -e[1]):
                    caption = self._captions[label].get(sid, "")
                    data.append(
                        dict(model=label, id=sid, kind=kind, iou=iou, caption=caption, record=stored[label][sid])
                    )
        return pd.DataFrame(data, columns=["model", "id", "kind", "iou", "caption", "record"])

    # -- records ---------------------------------------------------------------------------------------------
    def records(self, sample_id: str) -> list[Explanation]:
        """Each run's stored record of ``sample_id`` (runs made with ``--save-records`` / ``save_records=True``)."""
        from .record import Explanation, RecordError

        if not isinstance(sample_id, str):
            raise TypeError(f"sample_id must be a str (as in .samples(word)['id']), got {type(sample_id).__name__}")
        out = []
        for label, run in zip(self.labels, self.runs):
            row = next((r for r in run.rows if r["id"] == sample_id), None)
            if row is None:
                raise KeyError(f"{label} ({run.path}) has no result for sample {sample_id!r}")
            name = row.get("record")
            if not name:
                raise RunComparisonError(
                    f"{label} ({run.path}) did not store the record of sample {sample_id!r}: rerun its evaluation "
                    "with --save-records (save_records=True) to open samples"
                )
            path = run.path / str(name)
            if Path(str(name)).is_absolute() or ".." in Path(str(name)).parts:
                raise RunComparisonError(f"{run.path}: the row of {sample_id!r} names a record outside the run")
            try:
                out.append(Explanation.load(path))
            except (OSError, RecordError) as e:
                raise RunComparisonError(f"{label}: cannot read the record of sample {sample_id!r} ({e})") from None
        return out

    def open(self, sample_id: str, **view: Any):
        """The models' records of ``sample_id`` side by side: a ``tam_widgets.widgets.compare.CompareView``.

        ``view`` goes to the view (e.g. ``query="dog"`` to show every model's map of that word).

            cmp.open(cmp.samples("dog").id[0], query="dog")
        """
        records = self.records(sample_id)
        from .widgets.compare import CompareView

        return CompareView(records, labels=self.labels, **view)

    # -- figure ----------------------------------------------------------------------------------------------
    def figure(self, words: Sequence[str] | None = None, *, top: int = 15, kind: str | None = None, width: float = 7.0):
        """A per-word bar chart per model (matplotlib ``Figure``; ``.savefig("words.pdf")``).

        One panel per kind (object words: Obj-IoU; function words: Func-IoU), bars grouped by word, one colour
        per model. ``words``: the words to draw (default: the ``top`` most frequent of each kind); ``kind``
        keeps one panel. A bar missing means the word occurs in fewer than ``min_count`` of that model's
        captions.

            cmp.figure(["dog", "cat", "the", "a"]).savefig("words.png", dpi=200)
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from .record.figure import new_figure

        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be None, 'object' or 'function'; got {kind!r}")
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a whole number >= 1, got {top!r}")
        table = self.words
        if words is not None:
            if isinstance(words, str) or not all(isinstance(w, str) for w in words):
                raise TypeError("words must be a list of str, e.g. ['dog', 'the']")
            keys = [_word_key(w) for w in words]
            unknown = [w for w, k in zip(words, keys) if k not in set(table["word"])]
            if unknown:
                raise KeyError(
                    f"not in .words (fewer than min_count={self.min_count} captions, or never scored): {unknown}"
                )
            table = table.set_index("word").loc[keys].reset_index()
        kinds = [k for k in KINDS if (kind is None or k == kind) and (table["kind"] == k).any()]
        if not kinds:
            raise ValueError(
                f"no word to draw: no word occurs in {self.min_count} or more captions of a model"
                + (f" as a {kind} word" if kind else "")
                + "; lower min_count"
            )
        parts = []
        for k in kinds:
            part = table[table["kind"] == k]
            parts.append(part if words is not None else part.head(top))
        n_models = len(self.labels)
        longest = max(len(p) for p in parts)
        fig_w = max(width, 1.2 + longest * (0.22 * n_models + 0.25))
        fig = new_figure(figsize=(fig_w, 2.6 * len(parts) + 0.6), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(parts), 1, squeeze=False)[:, 0]
        colours = [f"C{i}" for i in range(n_models)]
        bar = 0.8 / n_models
        for ax, k, part in zip(axes, kinds, parts):
            xs = range(len(part))
            for m, label in enumerate(self.labels):
                values = part[label].to_numpy(dtype=float)
                offs = [x - 0.4 + bar * (m + 0.5) for x in xs]
                ax.bar(offs, values, bar, color=colours[m], label=label)
            ax.set_xticks(list(xs))
            ax.set_xticklabels(
                list(part["word"]), rotation=45 if len(part) > 8 else 0, ha="right" if len(part) > 8 else "center"
            )
            ax.set_ylim(0, 1)
            ax.set_xlim(-0.6, max(len(part), 1) - 0.4)
            ax.set_ylabel(f"mean {KINDS[k][2]}")
            ax.set_title(f"{k} words (in >= {self.min_count} captions)", fontsize=10, loc="left")
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        fig.legend(*axes[0].get_legend_handles_labels(), fontsize=8, ncols=min(n_models, 4), loc="outside upper right")
        return fig

    # -- display ---------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        t = self.table
        cols = [h for h, _ in TABLE_COLUMNS if h in t.columns]
        lines = [f"RunComparison of {len(self.runs)} runs (words in >= {self.min_count} captions)"]
        head = ["model", *cols, "samples"]
        body = [
            [
                lb,
                *("n/a" if math.isnan(t.loc[lb, c]) else f"{100 * t.loc[lb, c]:.1f}" for c in cols),
                str(t.loc[lb, "samples"]),
            ]
            for lb in self.labels
        ]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        for r in [head, *body]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        w = self.words
        for label in self.labels:
            for k in KINDS:
                part = w[(w["kind"] == k) & w[label].notna()].sort_values(label)
                if len(part) == 1:
                    only = part.iloc[0]
                    lines.append(f"{label}: {k} words only {only['word']!r} {100 * only[label]:.1f}")
                elif len(part):
                    lo, hi = part.iloc[0], part.iloc[-1]
                    lines.append(
                        f"{label}: {k} words best {hi['word']!r} {100 * hi[label]:.1f}, worst {lo['word']!r} "
                        f"{100 * lo[label]:.1f}"
                    )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<style>{_CSS}</style>{self._body_html(notebook=True)}"

    def to_html(self, path: str | os.PathLike | None = None, *, figure: bool = True, title: str | None = None):
        """One offline HTML file of the comparison: both tables (words open their samples) and, with ``figure``,
        the per-word bar chart as a PNG. No script; a strict Content-Security-Policy. Returns the path (or the
        HTML text when ``path`` is None); the file is written atomically.

            cmp.to_html("runs.html")
        """
        import base64
        import io

        from .io import atomic_write
        from .widgets.html import content_security_policy

        img = ""
        if figure and len(self.words):
            buf = io.BytesIO()
            self.figure().savefig(buf, format="png", dpi=100)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            img = f'<div class="tam-runs"><img alt="per-word bar chart" src="data:image/png;base64,{data}"></div>'
        title = title or "tam-widgets: " + " vs ".join(self.labels)
        csp = content_security_policy([], [_CSS, _PAGE_CSS])
        page = "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{html.escape(title)}</title>",
                f"<style>{_CSS}</style>",
                f"<style>{_PAGE_CSS}</style>",
                "</head><body>",
                self._body_html(notebook=False),
                img,
                "</body></html>",
                "",
            ]
        )
        if path is None:
            return page
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or Path), got {type(path).__name__}")
        return atomic_write(path, lambda f: f.write(page.encode("utf-8")))

    def _body_html(self, notebook: bool) -> str:
        e = html.escape
        t = self.table
        cols = [h for h, _ in TABLE_COLUMNS if h in t.columns]

        def pct(v: float) -> str:
            return '<span class="na">n/a</span>' if v is None or math.isnan(v) else f"{100 * v:.1f}"

        def best_of(values: list[float]) -> float | None:
            ok = [v for v in values if not math.isnan(v)]
            return max(ok) if len(ok) > 1 and min(ok) < max(ok) else None  # no winner on a tie

        parts = ['<div class="tam-runs">', f"<b>{len(self.runs)} evaluation runs</b> "]
        ds = self.runs[0].settings
        parts.append(e(f"({ds.get('dataset')}, {ds.get('dataset_size')} samples, compat {ds.get('compat')})"))
        parts.append('<table><tr><th class="w">model</th>' + "".join(f"<th>{e(c)}</th>" for c in cols))
        parts.append("<th>samples</th><th>method</th></tr>")
        tops = {c: best_of([float(t.loc[lb, c]) for lb in self.labels]) for c in cols}
        for lb in self.labels:
            cells = []
            for c in cols:
                v = float(t.loc[lb, c])
                cls = ' class="best"' if tops[c] is not None and v == tops[c] else ""
                cells.append(f"<td{cls}>{pct(v)}</td>")
            parts.append(
                f'<tr><td class="w">{e(lb)}</td>{"".join(cells)}<td>{int(t.loc[lb, "samples"])}</td>'
                f"<td>{e(str(t.loc[lb, 'method']))}</td></tr>"
            )
        parts.append("</table>")
        w = self.words
        if len(w):
            parts.append(
                f"<b>Per word</b> (nouns: mean Obj-IoU; function words: mean Func-IoU; shown where the word occurs in "
                f"at least {self.min_count} of a model's captions, with that count in brackets; open a word for "
                "its samples: id (IoU in %), best first"
                + ("; <code>.open(id)</code> shows one in the CompareView)" if notebook else ")")
            )
            parts.append('<table><tr><th class="w">word</th><th class="w">kind</th>')
            parts.append("".join(f"<th>{e(lb)}</th>" for lb in self.labels) + "</tr>")
            for _, row in w.head(_HTML_WORDS).iterrows():
                values = [float(row[lb]) for lb in self.labels]
                top = best_of(values)
                cells = []
                for lb, v in zip(self.labels, values):
                    cls = ' class="best"' if top is not None and v == top else ""
                    cells.append(f"<td{cls}>{pct(v)} <small>({int(row[f'{lb} n'])})</small></td>")
                parts.append(
                    f'<tr><td class="w">{self._word_details(row["word"], row["kind"])}</td>'
                    f'<td class="w">{e(row["kind"])}</td>{"".join(cells)}</tr>'
                )
            parts.append("</table>")
            if len(w) > _HTML_WORDS:
                parts.append(f'<div class="note">{len(w) - _HTML_WORDS} more words in .words</div>')
        elif not self.notes:
            parts.append(
                f'<div class="note">no word occurs in {self.min_count} or more captions; lower min_count</div>'
            )
        for n in self.notes:
            parts.append(f'<div class="note">note: {e(n)}</div>')
        parts.append("</div>")
        return "".join(parts)

    def _word_details(self, word: str, kind: str) -> str:
        e = html.escape
        items = []
        for label in self.labels:
            entries = sorted(self._entries.get((label, kind, word), ()), key=lambda x: -x[1])
            if not entries:
                continue
            shown = ", ".join(f"{e(sid)} ({100 * v:.0f})" for sid, v in entries[:_HTML_SAMPLES])
            more = f" and {len(entries) - _HTML_SAMPLES} more" if len(entries) > _HTML_SAMPLES else ""
            items.append(f"<li>{e(label)}: {shown}{more}</li>")
        return f"<details><summary>{e(word)}</summary><ul>{''.join(items)}</ul></details>"
