"""Scaled-out evaluation: explain every sample of a dataset, score it, resume, merge shards.

    tam-widgets evaluate --model ID --dataset coco --root PATH --method tam --out DIR
    torchrun --nproc_per_node 2 -m tam_widgets evaluate ...       # or --shard i/n by hand

Each process handles every n-th sample (``--shard i/n``, or ``RANK``/``WORLD_SIZE`` when
launched by ``torchrun`` / ``accelerate launch``) and appends one JSON line per finished sample
to ``DIR/results-<i>-of-<n>.jsonl`` (flushed and fsynced), so a killed run resumes where it
stopped. When every shard is done, the results are pooled over words as the paper does and
written to ``DIR/summary.json``; ``format_table`` prints them like the paper's Table 3.

Results are never pooled silently:

- ``DIR/run.json`` records the run's settings (model, revision, method, compat, dataset and its
  size, shard count, ``max_new_tokens``, generation keywords, package version); every row carries
  the method and a digest of those settings. A resume with other settings is refused, naming the
  differing keys; ``force_new=True`` (``--force-new``) starts over and moves the old files into
  ``DIR/old-<UTC time>/`` (nothing is deleted).
- One process per shard file: an OS lock on ``results-<i>-of-<n>.lock`` (released on exit or kill).
- Merging refuses two different rows for one sample id (naming the files and lines); identical
  copies are kept once.
- A line that is not a JSON object with an ``"id"`` is reported as ``file:line: reason`` (an
  :class:`EvaluationWarning`) and skipped; a half-written last line left by a kill is cut off.
- Samples are read one at a time; a sample whose picture cannot be read becomes a row
  ``{"id", "failed": true, "error"}``, is counted in ``n_failed`` and retried on the next resume.
- ``summary.json`` is strict JSON: an undefined mean is ``null`` and ``why_null`` says why.
- ``limit`` (``--limit``) keeps the first ``limit >= 1`` samples of each shard; the others are
  counted as ``n_left_out``.

A row names the word of each Obj-IoU / Func-IoU entry (``obj_words`` / ``func_words``);
``save_records=True`` (``--save-records``) also stores each sample's record as ``DIR/records/<id>.tam``.
:func:`tam_widgets.compare_runs` reads finished folders of several models side by side. VQA accuracy is
the official one (:mod:`tam_widgets.studies.vqa_eval`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .io import Journal, flock
from .studies.vqa_eval import vqa_accuracy  # the official VQA accuracy (its one statement)

__all__ = [
    "DATASETS",
    "EvaluationError",
    "EvaluationWarning",
    "dataset_layouts",
    "format_table",
    "merge",
    "open_dataset",
    "run",
]

DATASETS = ("coco", "grandf", "openpsg", "okvqa", "star")
"""The data sets ``tam-widgets evaluate --dataset`` and :func:`open_dataset` know.

>>> DATASETS
('coco', 'grandf', 'openpsg', 'okvqa', 'star')
"""
SETTINGS_FILE = "run.json"
_STARTED = time.time()  # when this process began evaluating (see _same_launch)


class EvaluationError(ValueError):
    """An evaluation folder cannot be used as asked (other settings, a busy shard, conflicting rows).

    The message names what differs and what to do (e.g. pass ``force_new=True``); it is a ``ValueError``:

    >>> issubclass(EvaluationError, ValueError)
    True
    >>> run(explainer, dataset, "runs/qwen", method="cam")  # the folder holds a "tam" run  # doctest: +SKIP
    Traceback (most recent call last):
    EvaluationError: runs/qwen holds results of other settings (method: 'tam' != 'cam') ...
    """


class EvaluationWarning(UserWarning):
    """Something in an evaluation folder was skipped or moved (the message says what and where).

    >>> issubclass(EvaluationWarning, UserWarning)
    True
    >>> import warnings
    >>> warnings.simplefilter("error", EvaluationWarning)  # a strict pipeline: stop on a skipped line  # doctest: +SKIP
    """


def _dataset_classes() -> dict[str, type]:
    from . import datasets

    return {
        "coco": datasets.CocoCaption,
        "grandf": datasets.GranDf,
        "openpsg": datasets.OpenPSG,
        "okvqa": datasets.OKVQA,
        "star": datasets.STAR,
    }


def open_dataset(name: str, root: str | os.PathLike, **kwargs):
    """A dataset loader by name: coco, grandf, openpsg, okvqa or star (``kwargs`` go to the loader).

    >>> import tempfile
    >>> from tam_widgets.testing.datasets import coco_formatted
    >>> ds = open_dataset("coco", coco_formatted(tempfile.mkdtemp()), load_pixels=False)
    >>> type(ds).__name__, len(ds)
    ('CocoCaption', 3)
    """
    classes = _dataset_classes()
    if name not in classes:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return classes[name](root, **kwargs)


def dataset_layouts() -> str:
    """Every dataset's expected folder layout, from the loaders' ``LAYOUT`` (for ``--help``).

    >>> print(dataset_layouts().splitlines()[0])
    coco:
    """
    return "\n\n".join(f"{name}:\n{cls.LAYOUT}" for name, cls in _dataset_classes().items())


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``; ``None`` -> from ``RANK``/``WORLD_SIZE`` (torchrun, accelerate) or ``(0, 1)``."""
    if text is None:
        return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/n (e.g. 0/2), got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--shard {text}: need 0 <= i < n")
    return i, n


def check_limit(limit: int | None) -> None:
    """Refuse a ``limit`` that is not a whole number >= 1 (``None`` means every sample).

    >>> check_limit(-1)
    Traceback (most recent call last):
    ValueError: --limit must be a whole number >= 1 (samples per shard), got -1; leave it out to run every sample
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(
            f"--limit must be a whole number >= 1 (samples per shard), got {limit!r}; leave it out to run every sample"
        )


def check_method(method: str) -> None:
    """Refuse a method name that the method registry does not know (``tam``, ``cam``, baselines)."""
    from .methods import METHODS

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(sorted(METHODS))}")


# -- settings ------------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON; other objects (e.g. a logits processor) by their type name."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def run_settings(
    *,
    model: str,
    method: str,
    compat: str,
    dataset: str,
    dataset_size: int,
    shards: int,
    max_new_tokens: int,
    generation: dict | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    """The settings that make results comparable; a folder's results all share them (``run.json``)."""
    from ._version import __version__

    return {
        "model": str(model),
        "revision": revision,
        "method": method,
        "compat": compat,
        "dataset": dataset,
        "dataset_size": int(dataset_size),
        "shards": int(shards),
        "max_new_tokens": int(max_new_tokens),
        "generation": _jsonable(generation or {}),
        "version": __version__,
    }


def settings_id(settings: dict) -> str:
    """A short digest of ``settings``, stored in every result row."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _explainer_settings(explainer, dataset, method, compat, shards, max_new_tokens, generation) -> dict:
    name = {cls: n for n, cls in _dataset_classes().items()}.get(type(dataset), type(dataset).__name__)
    gen = {**getattr(explainer, "generation", {}), **(generation or {})}
    gen.pop("max_new_tokens", None)
    return run_settings(
        model=getattr(explainer, "model_id", ""),
        revision=getattr(getattr(explainer.model, "config", None), "_commit_hash", None),
        method=method,
        compat=compat,
        dataset=name,
        dataset_size=len(dataset),
        shards=shards,
        max_new_tokens=max_new_tokens,
        generation=gen,
    )


_flock = flock  # the OS lock of a shard's file and of run.json (tam_widgets.io)


def _result_files(out: Path) -> list[Path]:
    names = [SETTINGS_FILE, "summary.json"]
    found = [out / n for n in names if (out / n).exists()]
    records = [out / "records"] if (out / "records").is_dir() else []
    return found + sorted(out.glob("results-*-of-*.jsonl")) + sorted(out.glob("results-*-of-*.done")) + records


def _read_settings(out: Path) -> dict | None:
    path = out / SETTINGS_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        record["settings"]["model"], record["settings_id"]  # noqa: B018 -- the keys every reader needs
    except (json.JSONDecodeError, TypeError, KeyError) as e:
        raise EvaluationError(
            f"{path} is damaged ({e}); it records the settings of the results beside it. "
            "Use --force-new (force_new=True) to start over (the old files are moved aside)."
        ) from None
    return record


def _move_aside(out: Path) -> Path:
    """Move the earlier run's files into ``out/old-<UTC time>/``; refuse while a shard is being run."""
    for lock in sorted(out.glob("results-*-of-*.lock")):
        try:
            with _flock(lock, blocking=False):
                pass
        except BlockingIOError:
            raise EvaluationError(
                f"another process is still writing {lock.with_suffix('.jsonl')}; stop it before starting over"
            ) from None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest, k = out / f"old-{stamp}", 1
    while dest.exists():
        k += 1
        dest = out / f"old-{stamp}-{k}"
    dest.mkdir()
    for path in _result_files(out):
        shutil.move(str(path), str(dest / path.name))
    warnings.warn(f"started over in {out}: the earlier results were moved to {dest}", EvaluationWarning, stacklevel=3)
    return dest


def _same_launch(record: dict, settings: dict) -> bool:
    """Whether ``run.json`` was written by a sibling of this process in the same launch.

    ``torchrun`` (or a shell starting ``--shard i/n`` processes together) starts every shard's
    process with ``--force-new``; only the first may move the old run aside. A sibling has the same
    parent process, wrote identical settings of several shards, and did so after this process began.
    """
    return (
        record["settings"] == settings
        and settings["shards"] > 1
        and record.get("pid") != os.getpid()
        and record.get("ppid") == os.getppid()
        and record.get("created_unix", 0) >= _STARTED
    )


_START_OVER = (
    "use another output folder, or --force-new (force_new=True) to start over in {out} "
    "(the old files are moved to {out}/old-<UTC time>/)"
)


def prepare(out: str | os.PathLike, settings: dict, *, force_new: bool = False, partial: bool = False) -> Path:
    """Make ``out`` ready for a run with ``settings``: writable, and holding only results of the same settings.

    Writes ``out/run.json`` when it is new. ``partial=True`` only checks the keys given in ``settings``
    (the command line does so before loading the model) and writes nothing. With ``force_new`` the
    files of an earlier run are moved into ``out/old-<UTC time>/`` (unless a sibling process of the
    same launch already did, see :func:`_same_launch`). Raises :class:`EvaluationError` (a ``ValueError``) when
    the folder holds results of other settings.
    """
    from .io import atomic_write

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EvaluationError(f"cannot create the output folder {out}: {e.strerror or e}") from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise EvaluationError(f"the output folder {out} is not a writable directory; choose another --out")
    with _flock(out / ".run.lock", blocking=True):
        if force_new and partial:
            return out  # the old files are moved aside by the run itself
        if force_new:
            with contextlib.suppress(EvaluationError):  # a damaged run.json is moved aside too
                old = _read_settings(out)
                if old is not None and _same_launch(old, settings):
                    return out  # another shard's process of this launch already started over
            if _result_files(out):
                _move_aside(out)
            old = None
        else:
            old = _read_settings(out)
        if old is None:
            legacy = [p.name for p in _result_files(out) if p.name != SETTINGS_FILE]
            if legacy:
                raise EvaluationError(
                    f"{out} holds results ({', '.join(legacy)}) but no {SETTINGS_FILE} saying how they were made "
                    f"(an older version wrote them, or {SETTINGS_FILE} was removed), so they cannot be pooled safely; "
                    + _START_OVER.format(out=out)
                )
            if not partial:
                now = time.time()
                record = {
                    "settings": settings,
                    "settings_id": settings_id(settings),
                    "created": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
                    "created_unix": now,
                    "pid": os.getpid(),
                    "ppid": os.getppid(),
                }
                text = json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n"
                atomic_write(out / SETTINGS_FILE, lambda f: f.write(text.encode()))
            return out
        before = old["settings"]
        keys = sorted(settings) if partial else sorted(set(before) | set(settings))
        diffs = [
            f"{k}: {before.get(k)!r} there, {settings.get(k)!r} now" for k in keys if before.get(k) != settings.get(k)
        ]
        if diffs:
            raise EvaluationError(
                f"{out} holds results made with other settings ({'; '.join(diffs)}); they would be pooled with "
                "this run's. To resume, rerun with the earlier settings; otherwise " + _START_OVER.format(out=out)
            )
    return out


# -- result files --------------------------------------------------------------------------------
def _has_id(row: dict) -> str | None:
    """Why a results row cannot be used (no string ``"id"``), or None."""
    return None if isinstance(row.get("id"), str) else "no sample 'id'"


def _journal(path: str | os.PathLike) -> Journal:
    """A shard's results file as a :class:`~tam_widgets.io.Journal` of rows with a sample ``"id"``."""
    return Journal(path, warning=EvaluationWarning, check=_has_id)


def read_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """``(line number, row)`` for every valid line of a results file.

    A line that is not a JSON object with a string ``"id"`` is reported as an
    :class:`EvaluationWarning` ``file:line: reason`` and skipped.
    """
    return _journal(path).rows()


@dataclass
class Evaluation:
    """Where one shard's results go, and which samples are already done.

    ``settings`` (a :func:`settings_id`) is stored in each appended row; :meth:`done` refuses rows
    made with other settings. Call :meth:`done` and :meth:`append` inside :meth:`lock`.
    """

    out: Path
    shard: tuple[int, int]
    settings: str | None = None

    @property
    def path(self) -> Path:
        i, n = self.shard
        return self.out / f"results-{i}-of-{n}.jsonl"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the OS lock of this shard's file; a second process fails at once (released on exit or kill)."""
        journal = _journal(self.path)
        lock = journal.lock_path
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(journal.lock())
            except BlockingIOError:
                i, n = self.shard
                raise EvaluationError(
                    f"another process is already evaluating shard {i}/{n} into {self.path} (it holds {lock}); "
                    "wait for it to finish, or give this process another --shard or --out"
                ) from None
            yield

    def done(self) -> set[str]:
        """Ids already finished (failed rows are retried). A half-written last line left by a kill is cut off."""
        if not self.path.exists():
            return set()
        _journal(self.path).repair("that sample is redone", stacklevel=2)
        ids = set()
        for lineno, row in read_rows(self.path):
            if self.settings is not None and row.get("settings") != self.settings:
                raise EvaluationError(
                    f"{self.path}:{lineno} was made with other settings than this run's ({SETTINGS_FILE}); "
                    + _START_OVER.format(out=self.out)
                )
            if not row.get("failed"):
                ids.add(row["id"])
        return ids

    def append(self, row: dict) -> None:
        """Add one row (strict JSON), flushed and fsynced."""
        if self.settings is not None:
            row = {**row, "settings": self.settings}
        _journal(self.path).append(_strict(row))

    def mark_complete(self, left_out: int = 0) -> None:
        """Say this shard is finished (``left_out`` samples were not run because of ``limit``)."""
        from .io import atomic_write

        text = json.dumps({"left_out": int(left_out)}) + "\n"
        atomic_write(self.out / f"{self.path.stem}.done", lambda f: f.write(text.encode()))


def _strict(value: Any) -> Any:
    """``value`` with NaN / infinities replaced by ``None`` (strict JSON)."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def entry_words(rows: list[dict], n_obj: int, n_func: int) -> tuple[list[str], list[str]]:
    """The word text of each Obj-IoU and Func-IoU entry of a scored caption (aligned with ``obj_iou`` / ``func_iou``).

    ``rows`` are :attr:`~tam_widgets.metrics.CaptionScore.rows`; an Obj-IoU entry made of merged words
    ("tennis racket") gets their texts joined by a space, a word repeated in it once ("cat cat" is "cat").

    >>> rows = [dict(word="A", kind="function", entry=0), dict(word="tennis", kind="noun", entry=0),
    ...         dict(word="racket", kind="noun", entry=0), dict(word="on", kind="other"),
    ...         dict(word="cat", kind="noun", entry=1), dict(word="cat", kind="noun", entry=1)]
    >>> entry_words(rows, 2, 1)
    (['tennis racket', 'cat'], ['A'])
    """
    obj: list[list[str]] = [[] for _ in range(n_obj)]
    func: list[str] = [""] * n_func
    for r in rows:
        e = r.get("entry")
        if e is None or (isinstance(e, float) and math.isnan(e)):
            continue
        if r.get("kind") == "noun" and 0 <= int(e) < n_obj:
            obj[int(e)].append(str(r["word"]))
        elif r.get("kind") == "function" and 0 <= int(e) < n_func:
            func[int(e)] = str(r["word"])
    return [" ".join(dict.fromkeys(w)) for w in obj], func


def record_name(sample_id: str) -> str:
    """Where a sample's record is stored in a run folder (``save_records=True``), relative to it.

    >>> record_name("val/42 a")
    'records/val%2F42%20a.tam'
    """
    from urllib.parse import quote

    return f"records/{quote(sample_id, safe='-_.')}.tam"


def score_sample(exp, sample, tokenizer, method: str, compat: str, maps: np.ndarray | None = None) -> dict:
    """One result row: the caption, per-word IoUs (and each entry's word), METEOR / ROUGE-L or VQA accuracy.

    VQA accuracy is the official one (:func:`tam_widgets.studies.vqa_eval.vqa_accuracy`: answer normalisation when
    the humans disagree, mean over the leave-one-out subsets of ``min(1, matches / 3)``).

    The maps are the record's ``method`` maps, or ``maps`` (one per generated token, over the
    first image's grid) when given. With ``compat="official"`` a record should come from
    ``compat="reference"`` explanations: its maps are then exactly the official code's
    (``maps[0]`` is the first prompt token's). A skipped sample has ``skipped: true`` and its
    ``skip_reason``.
    """
    from .metrics import meteor, rouge_l, score_caption

    start, end = exp.metadata["answer_spans"][0]
    generated = [t.id for t in exp.tokens if start <= t.position < end]
    rows = [r for r, i in enumerate(exp.explained) if compat == "official" or start <= exp.tokens[int(i)].position]
    caption = exp.answer
    row = {"id": sample.id, "method": method, "caption": caption, "prompt": sample.prompt}
    if sample.label_mask is not None:
        if maps is None:
            maps = np.stack([exp.map(int(exp.explained[r]), method)[0] for r in rows])
        if compat == "official":
            maps = np.round(np.clip(maps, 0, 1) * 255).astype(np.uint8)
        result = score_caption(maps, generated, tokenizer, sample.label_mask, sample.categories, compat=compat)
        skipped = getattr(result, "skipped", None)
        obj_words, func_words = entry_words(result.rows, len(result.obj_iou), len(result.func_iou))
        row.update(
            obj_iou=[float(x) for x in result.obj_iou],
            func_iou=[float(x) for x in result.func_iou],
            obj_words=obj_words,
            func_words=func_words,
            skipped=bool(skipped),
        )
        if skipped:
            row["skip_reason"] = str(skipped)
    if sample.references:
        row.update(meteor=float(meteor(caption, sample.references)), rouge_l=float(rouge_l(caption, sample.references)))
    if sample.answers:
        row["vqa_accuracy"] = vqa_accuracy(caption, sample.answers)
    return row


def run(
    explainer,
    dataset,
    out: str | os.PathLike,
    *,
    method: str = "tam",
    compat: str = "default",
    shard: tuple[int, int] = (0, 1),
    max_new_tokens: int = 256,
    limit: int | None = None,
    progress: bool = True,
    wait_for_shards: float = 0,
    generation: dict | None = None,
    force_new: bool = False,
    save_records: bool = False,
) -> dict | None:
    """Evaluate this process's shard; if every shard is complete, merge and return the summary.

    ``generation`` holds extra ``generate()`` keywords (greedy decoding by default). ``limit`` (>= 1)
    runs only the first ``limit`` samples of the shard. ``out`` may only hold results of the same
    settings (see :func:`prepare`); ``force_new=True`` moves earlier results aside and starts over.
    Samples are read one at a time; one that cannot be read is recorded as a failed row and the run
    goes on. ``save_records=True`` also stores each sample's explanation as ``out/records/<id>.tam``
    (:func:`record_name`, written before its row, which names it under ``"record"``), so
    :func:`tam_widgets.compare_runs` can open it later.

    Example (illustrative: needs the model and the data set; ``tam-widgets evaluate`` does the same):

    >>> import tam_widgets as tw
    >>> from tam_widgets.evaluate import format_table, open_dataset, run
    >>> summary = run(tw.load("Qwen/Qwen2-VL-2B-Instruct"), open_dataset("coco", "/data/coco"),
    ...               "runs/qwen2vl", limit=100)  # doctest: +SKIP
    >>> print(format_table(summary, "tam (default)"))  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from .methods import compute

    check_limit(limit)
    check_method(method)
    settings = _explainer_settings(explainer, dataset, method, compat, shard[1], max_new_tokens, generation)
    out = prepare(out, settings, force_new=force_new)
    ev = Evaluation(out, shard, settings_id(settings))
    tokenizer = explainer.adapter.tokenizer
    with ev.lock():
        done = ev.done()
        samples = dataset.shard(*shard)
        ids = samples.ids
        stop = len(ids) if limit is None else min(limit, len(ids))
        todo = [k for k in range(stop) if ids[k] not in done]
        bar = tqdm(todo, desc=f"shard {shard[0]}/{shard[1]}", disable=not progress, unit="sample")
        for k in bar:
            try:
                sample = samples[k]  # decoded now, freed when the next one is read
            except Exception as e:  # any unreadable picture or video: record why, go on
                error = f"{type(e).__name__}: {e}"
                warnings.warn(
                    f"sample {ids[k]}: cannot read it ({error}); recorded as failed", EvaluationWarning, stacklevel=2
                )
                ev.append({"id": ids[k], "method": method, "failed": True, "error": error})
                continue
            media = {"video": sample.frames} if getattr(sample, "frames", None) else {"image": sample.image}
            chat = explainer.chat(**media)
            exp = chat.ask(sample.prompt, max_new_tokens=max_new_tokens, **(generation or {}))
            maps = None
            if method not in exp.maps:  # a baseline from the registry, computed from the same turn
                flat = compute(method, chat.method_input())
                g = exp.grids[0]
                maps = flat[:, g.offset : g.offset + g.size].reshape(len(flat), *g.grid)
            row = score_sample(exp, sample, tokenizer, method, compat, maps)
            if save_records:
                name = record_name(ids[k])
                (out / name).parent.mkdir(exist_ok=True)
                exp.save(out / name)
                row["record"] = name
            ev.append(row)
            del sample, chat, exp, maps
        ev.mark_complete(left_out=len(ids) - stop)
    deadline = time.monotonic() + wait_for_shards
    while True:
        summary = merge(out, shard[1])
        if summary is not None or time.monotonic() >= deadline:
            return summary
        time.sleep(1)


#: Why a pooled value is undefined (``null`` in ``summary.json``), by key.
_WHY_NULL = {
    "obj_iou": "no caption word matched a category of its sample's label mask",
    "func_iou": "no caption word was scored as a function word",
    "f1_iou": "needs both Obj-IoU and Func-IoU",
    "precision": "no object word with a defined precision",
    "recall": "no object word was scored",
}


def merge(out: str | os.PathLike, n: int) -> dict | None:
    """Pool every shard's rows (``None`` while a shard is unfinished) and write ``summary.json``.

    Refuses (:class:`EvaluationError`) rows made with different settings and two different rows for
    one sample id; identical duplicates count once. A failed row counts in ``n_failed`` (with its
    reason under ``failed``) unless the sample succeeded on a later resume. Undefined means are
    ``null``, with the reason under ``why_null``.

    >>> import tempfile
    >>> merge(tempfile.mkdtemp(), 2) is None  # no shard has finished yet
    True
    """
    from .io import atomic_write

    pooled = pool(out, n)
    if pooled is None:
        return None
    summary = pooled[0]
    text = json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write(Path(out) / "summary.json", lambda f: f.write(text.encode()))  # several shards may merge at once
    return summary


def pool(out: str | os.PathLike, n: int) -> tuple[dict, list[dict]] | None:
    """The summary :func:`merge` writes and the pooled rows (one per sample, in id order), writing nothing.

    ``None`` while one of the ``n`` shards is unfinished; the same refusals as :func:`merge`.
    """
    from .datasets.base import natural_key
    from .metrics import summarize

    out = Path(out)
    markers = [out / f"results-{i}-of-{n}.done" for i in range(n)]
    if not all(m.exists() for m in markers):
        return None
    record = _read_settings(out)
    expected = (record["settings_id"], out / SETTINGS_FILE) if record else None
    rows: dict[str, tuple[dict, str]] = {}
    failed: dict[str, dict] = {}
    for i in range(n):
        path = out / f"results-{i}-of-{n}.jsonl"
        if not path.exists():
            continue
        for lineno, row in read_rows(path):
            where = f"{path}:{lineno}"
            if expected is None:
                expected = (row.get("settings"), where)
            elif row.get("settings") != expected[0]:
                raise EvaluationError(
                    f"{where} was made with other settings than {expected[1]}; refusing to pool them. "
                    + _START_OVER.format(out=out)
                )
            sid = row["id"]
            if row.get("failed"):
                failed[sid] = row
            elif sid in rows:
                if rows[sid][0] != row:
                    raise EvaluationError(
                        f"sample id {sid!r} has two different results: {rows[sid][1]} and {where}; "
                        "delete the wrong line (or start over with --force-new) and merge again"
                    )
            else:
                rows[sid] = (row, where)
    ordered = [rows[k][0] for k in sorted(rows, key=lambda s: (natural_key(s), s))]
    failed = {k: failed[k] for k in sorted(failed, key=lambda s: (natural_key(s), s)) if k not in rows}
    summary: dict[str, Any] = {}
    why: dict[str, str] = {}
    scored = [r for r in ordered if "obj_iou" in r]
    if scored:
        pooled = summarize(scored)
        n_scored = pooled.pop("n_samples")
        summary.update({k: float(v) if isinstance(v, (float, np.floating)) else v for k, v in pooled.items()})
        for key, reason in _WHY_NULL.items():
            if isinstance(summary.get(key), float) and math.isnan(summary[key]):
                summary[key] = None
                if n_scored == 0:
                    first = next(r for r in scored if r.get("skipped"))
                    reason = f"every sample was skipped (e.g. {first['id']}: {first.get('skip_reason', '')})"
                elif key != "f1_iou" and not any(str(r.get("caption", "")).strip() for r in scored):
                    reason = "every generated caption was empty"
                why[key] = reason
    for key in ("meteor", "rouge_l", "vqa_accuracy"):
        values = [r[key] for r in ordered if r.get(key) is not None]
        if values:
            summary[key] = float(np.mean(values))
    summary["n_samples"] = len(ordered)
    summary["n_failed"] = len(failed)
    if failed:
        summary["failed"] = {k: r.get("error", "") for k, r in failed.items()}
    summary["n_left_out"] = sum(_left_out(m) for m in markers)
    if not ordered:
        why["n_samples"] = (
            f"no sample could be read ({len(failed)} failed)" if failed else "the shards held no samples to run"
        )
    if why:
        summary["why_null"] = why
    if record:
        summary["settings"] = record["settings"]
    return _strict(summary), ordered


def _left_out(marker: Path) -> int:
    try:
        return int(json.loads(marker.read_text()).get("left_out", 0))
    except (ValueError, AttributeError):  # an older marker ("ok")
        return 0


def _count(n: int, noun: str) -> str:
    """``"1 sample"``, ``"2 samples"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_table(summary: dict, name: str = "") -> str:
    """The summary as a row of the paper's Table 3 (percentages); ``n/a`` cells are explained below it.

    >>> print(format_table({"obj_iou": 0.4123, "func_iou": 0.812, "f1_iou": 0.547, "n_samples": 100}, "tam"))
    | method | Obj-IoU | Func-IoU | F1-IoU |
    | --- | --- | --- | --- |
    | tam | 41.2 | 81.2 | 54.7 |
    100 samples
    """
    cols = [
        ("Obj-IoU", "obj_iou"),
        ("Func-IoU", "func_iou"),
        ("F1-IoU", "f1_iou"),
        ("METEOR", "meteor"),
        ("ROUGE-L", "rouge_l"),
        ("VQA acc", "vqa_accuracy"),
    ]
    cols = [(h, k) for h, k in cols if k in summary]
    why = summary.get("why_null", {})
    notes = []

    def cell(head: str, key: str) -> str:
        v = summary[key]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            notes.append(f"{head} n/a: {why.get(key, 'no values to average')}")
            return "n/a"
        return f"{100 * v:.1f}"

    head = "| method | " + " | ".join(h for h, _ in cols) + " |"
    sep = "| --- | " + " | ".join("---" for _ in cols) + " |"
    body = f"| {name} | " + " | ".join(cell(h, k) for h, k in cols) + " |"
    lines = [head, sep, body, _count(summary.get("n_samples", 0), "sample")]
    if not cols:
        notes.append(f"no scores: {why.get('n_samples', 'no sample produced a score')}")
    if summary.get("n_failed"):
        failed = summary.get("failed", {})
        first = next(iter(failed.items()), None)
        example = f", e.g. {first[0]}: {first[1]}" if first else ""
        notes.append(f"{_count(summary['n_failed'], 'sample')} failed and not scored (retried on resume){example}")
    if summary.get("n_left_out"):
        notes.append(f"{_count(summary['n_left_out'], 'sample')} left out by --limit")
    return "\n".join(lines + notes)
