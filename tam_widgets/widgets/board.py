"""``FailureCaseBoard``: the failure-case board of a :class:`~tam_widgets.studies.Study` (issue #13).

    board = tw.FailureCaseBoard(study)                      # or a list of cases + store=...
    board = tw.FailureCaseBoard(cases, store="study/annotations.jsonl", explainer=tw.load(...))
    board                                   # case list + filters; open a case: its token map + ground truth
    board.annotate("420", reason="missed object", note="only the sofa", flag=True)
    board.annotations                       # a DataFrame, read from the study's journal
    board.to_html("study.html")             # the whole study as one offline, read-only page

The page asks the kernel for what it shows, case by case (``js/README.md``, "The case board"):
``{type: "picture", request, case, size}`` (a thumbnail or the picture of a case without a record),
``{type: "open", request, case}`` (its record: loaded from the study's cache or computed with the
explainer, then put in ``_records`` as ``"c<index>"``) and ``{type: "annotate", request, case,
reason?, note?, flag?, token?}`` (written to the study's journal before the reply: a change is
durable when the page sees it acknowledged). Map rows travel by the row protocol of
:class:`~tam_widgets.widgets.base.RecordsWidget`. Every message the kernel cannot serve is answered
with its fields plus ``error``; nothing raises in the kernel.
"""

from __future__ import annotations

import base64
import collections
import io
import math
import os
from typing import Any

import numpy as np
import traitlets

from ..record import Explanation
from ..studies import CaseError, Study
from . import state
from .base import RecordsWidget, bundle, record_entry
from .html import PAGE_FORMAT, PAGE_VERSION, record_document, write_page
from .payload import MAX_INLINE_BYTES, build_payload, encode_image
from .snapshot import _cut, snapshot_png

__all__ = ["FailureCaseBoard"]

#: longest side of a case's thumbnail in the list / of the picture shown for a case without a record
THUMB_SIZE, PICTURE_SIZE = 96, 448
#: ``_notes_new`` (the annotations changed since ``_notes`` was last synced) is folded into ``_notes`` when it holds
#: this many, or sqrt(2 x len(_notes)) if more: a change then syncs a few notes, a fold all of them, rarely
NOTES_BATCH_MIN = 32
#: longest note the page may save (characters)
MAX_NOTE = 20_000
#: the messages the page sends (beside the row protocol's ``maps``)
BOARD_MESSAGES = (
    '{type: "picture", request, case, size: "thumb" | "full"}, {type: "open", request, case}, '
    '{type: "annotate", request, case, reason?, note?, flag?, token?} or {type: "maps", ...}'
)
_TOKEN_MAP_ATTRS = ("selected", "method", "colormap", "opacity", "show_specials", "frame", "region")


def _truth_text(case) -> str:
    """The ground truth as the list shows it: STAR's answer, or VQA's distinct answers with their counts."""
    if case.choices:
        return str(case.answer)
    counts = collections.Counter(a.strip() for a in case.answers)
    return ", ".join(a if n == 1 else f"{a} ×{n}" for a, n in counts.most_common(5))


class FailureCaseBoard(RecordsWidget):
    """A board of a study's cases: filter, sort, open a case's token map, annotate why it failed.

    Args:
        cases_or_study: a :class:`~tam_widgets.studies.Study`, or cases (:class:`~tam_widgets.studies.Case`
            objects or dicts) to make one with ``store``, ``explainer``, ``taxonomy`` and ``threshold``.
        store: the annotations file (``"study/annotations.jsonl"``); records are cached beside it.
            Without a store the board is read-only (nothing could be saved).
        explainer: a :class:`tam_widgets.Explainer`: opening a case without a record computes (and caches)
            it. Without one such a case shows its picture, question and ground truth.
        taxonomy: the failure reasons (default :data:`~tam_widgets.studies.DEFAULT_REASONS`); editable in the page.
        keep_open: records of this many recently opened cases stay in the page.
        snapshot: a PNG + text summary in the display output (see :class:`RecordsWidget`).

    Synced attributes (:mod:`tam_widgets.widgets.state`): ``case`` (the opened case id), ``filters``,
    ``sort``, ``reasons``, ``read_only`` and the token map's ``selected``, ``method``, ``colormap``,
    ``opacity``, ``show_specials``, ``frame``, ``region`` for the opened case.

    >>> import tempfile, pathlib
    >>> from tam_widgets.testing.records import picture
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> board = FailureCaseBoard([{"id": "1", "image": picture(32, 32), "question": "What?", "answers": ["cat"]}],
    ...                          store=folder / "annotations.jsonl")
    >>> board.annotate("1", reason="missed object")["reason"]
    'missed object'
    >>> board.annotations.case_id.tolist()
    ['1']
    """

    VIEW = "case_board"

    case = state.trait("case", state.BOARD_ATTRS)
    filters = state.trait("filters", state.BOARD_ATTRS)
    sort = state.trait("sort", state.BOARD_ATTRS)
    reasons = state.trait("reasons", state.BOARD_ATTRS)
    read_only = state.trait("read_only", state.BOARD_ATTRS)
    selected = state.trait("selected")
    method = state.trait("method")
    colormap = state.trait("colormap")
    opacity = state.trait("opacity")
    show_specials = state.trait("show_specials")
    frame = state.trait("frame")
    region = state.trait("region")
    #: one row per case (what the list shows), read-only for the page
    _cases = traitlets.List([]).tag(sync=True)
    #: ``{case id: annotation}`` as the journal holds it, in two synced parts (read-only for the page, which sends
    #: ``annotate``): ``_notes`` as of the last fold and ``_notes_new``, the changes since; the page shows both
    #: merged, and so does a notebook saved with widget state (every annotation, however many)
    _notes = traitlets.Dict({}).tag(sync=True)
    _notes_new = traitlets.Dict({}).tag(sync=True)

    def _study(self) -> Study | None:
        return getattr(self, "study", None)

    def _shown(self) -> Explanation | None:
        """The opened case's record when the page holds it (the token map's attributes are checked against it).

        The page sets ``case`` before it shows that case's map, so its ``selected`` / ``region`` arrive after.
        """
        study, cid = getattr(self, "study", None), getattr(self, "case", "")
        if study is None or not cid or cid not in self._index:
            return None
        return getattr(self, "explanations", {}).get(f"c{self._index[cid]}")

    _check_case = state.validator("case", _study, state.BOARD_ATTRS)
    _check_filters = state.validator("filters", _study, state.BOARD_ATTRS)
    _check_sort = state.validator("sort", _study, state.BOARD_ATTRS)
    _check_reasons = state.validator("reasons", _study, state.BOARD_ATTRS)
    _check_read_only = state.validator("read_only", _study, state.BOARD_ATTRS)
    _check_selected = state.validator("selected", _shown)
    _check_method = state.validator("method", lambda self: None)  # the page falls back to the record's first
    _check_colormap = state.validator("colormap", _shown)
    _check_opacity = state.validator("opacity", _shown)
    _check_show_specials = state.validator("show_specials", _shown)
    _check_frame = state.validator("frame", lambda self: None)
    _check_region = state.validator("region", _shown)

    def __init__(
        self,
        cases_or_study: Study | list,
        store: str | os.PathLike | None = None,
        explainer: Any = None,
        taxonomy: list[str] | None = None,
        *,
        threshold: float | None = None,
        keep_open: int = 4,
        image_format: str = "auto",
        max_inline_bytes: int = MAX_INLINE_BYTES,
        snapshot: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(cases_or_study, Study):
            study = cases_or_study
            if store is not None:
                raise ValueError("this study has its own store; pass store= only with a list of cases")
            if explainer is not None:
                study.explainer = explainer
            if taxonomy is not None:
                study.reasons = state.check_reasons(taxonomy, study)
            if threshold is not None:
                study.threshold = threshold
        elif isinstance(cases_or_study, (str, bytes, dict)) or not hasattr(cases_or_study, "__iter__"):
            raise TypeError(
                f"FailureCaseBoard takes a Study or a list of cases, got {type(cases_or_study).__name__}; "
                "e.g. tw.FailureCaseBoard(tw.studies.okvqa(...)) or tw.FailureCaseBoard([{...}], store=...)"
            )
        else:
            study = Study(cases_or_study, explainer, store, threshold=0.5 if threshold is None else threshold,
                          reasons=None if taxonomy is None else state.check_reasons(taxonomy, None))
        if isinstance(keep_open, bool) or not isinstance(keep_open, int) or keep_open < 1:
            raise ValueError(f"keep_open must be a whole number >= 1, got {keep_open!r}")
        self.study = study
        self._keep_open = keep_open
        self._index = {c.id: k for k, c in enumerate(study.case_list)}
        self._thumbs: collections.OrderedDict[tuple[str, str], tuple[bytes, str]] = collections.OrderedDict()
        self._format, self._max_inline = image_format, max_inline_bytes
        super().__init__([], image_format=image_format, max_inline_bytes=max_inline_bytes, snapshot=snapshot,
                         **kwargs)
        notes = self._read_notes()
        used = [n["reason"] for n in notes.values() if n.get("reason") and n["reason"] not in study.reasons]
        self.reasons = state.check_reasons(list(study.reasons) + used, study)
        study.reasons = list(self.reasons)
        self.read_only = study.store is None
        self._set_rows([self._row(c.id) for c in study.case_list], notes)
        self.observe(self._on_reasons, "reasons")

    def __repr__(self) -> str:
        return f"FailureCaseBoard({self.study!r})"

    # -- Python side: what the page does -----------------------------------------------------------
    @property
    def annotations(self):
        """A row per annotated case (``case_id, reason, note, flag, token, updated``): :attr:`Study.annotations`."""
        return self.study.annotations

    @property
    def cases(self):
        """A row per case with correctness, suggestions and annotation: :attr:`Study.cases`."""
        return self.study.cases

    def annotate(self, case_id: str | int, **changes: Any) -> dict:
        """Set a case's ``reason``, ``note``, ``flag`` or ``token`` as the page does; durable when it returns.

        The page shows the change at once. Returns the case's annotation (see :meth:`Study.annotate`).
        """
        row = self.study.annotate(case_id, **changes)
        recent = {**self._notes_new, row["case_id"]: row}
        self._writing = True
        try:
            if len(recent) >= max(NOTES_BATCH_MIN, math.isqrt(2 * len(self._notes))):
                with self.hold_sync():  # one message: every annotation in ``_notes``, none new
                    self._notes, self._notes_new = {**self._notes, **recent}, {}
            else:  # a few notes travel, not every annotation again
                self._notes_new = recent
        finally:
            self._writing = False
        return row

    def _all_notes(self) -> dict[str, dict]:
        """Every annotation the page shows: ``_notes`` updated with ``_notes_new``."""
        return {**self._notes, **self._notes_new} if self._notes_new else self._notes

    def precompute(self, **kwargs: Any) -> dict[str, int]:
        """Explain every case not yet cached (:meth:`Study.precompute`), then refresh the list."""
        counts = self.study.precompute(**kwargs)
        self.refresh()
        return counts

    def figure(self, case_ids: list[str] | None = None, **kwargs: Any):
        """A paper-style figure of cases (:meth:`Study.figure`); default: the opened case."""
        ids = case_ids if case_ids is not None else ([self.case] if self.case else [])
        return self.study.figure(ids, **kwargs)

    def export_figure(self, case_ids: list[str], path: str | os.PathLike, **kwargs: Any):
        """Save :meth:`figure` of ``case_ids`` as PNG or PDF (:meth:`Study.export_figure`)."""
        return self.study.export_figure(case_ids, path, **kwargs)

    def export_annotations(self, path: str | os.PathLike):
        """Write the annotations as CSV or JSONL (:meth:`Study.export_annotations`)."""
        return self.study.export_annotations(path)

    def refresh(self) -> None:
        """Re-read the annotations (another notebook's too) and every case's row."""
        self._set_rows([self._row(c.id) for c in self.study.case_list], self._read_notes())

    def open_case(self, case_id: str | int) -> Explanation | None:
        """Open a case in the page (``case``); returns its record (loaded, or computed with the explainer)."""
        cid = self.study.case(case_id).id
        exp = self._load(cid)
        self.case = cid
        return exp

    # -- rows, pictures, records -------------------------------------------------------------------
    def _set_rows(self, rows: list[dict], notes: dict[str, dict]) -> None:
        self._writing = True
        try:
            with self.hold_sync():
                self._cases, self._notes, self._notes_new = rows, notes, {}
        finally:
            self._writing = False

    @traitlets.validate("_cases", "_notes", "_notes_new")
    def _kernel_only(self, proposal: dict) -> Any:
        """The rows and annotations are the kernel's: the page changes annotations through ``annotate`` messages."""
        if not getattr(self, "_writing", False):
            raise traitlets.TraitError(
                f"{proposal['trait'].name} is read-only (the study's rows / journal); annotate with "
                "board.annotate(...) or the page's annotate message, reload with board.refresh()"
            )
        return proposal["value"]

    def _read_notes(self) -> dict[str, dict]:
        return self.study.store.read() if self.study.store is not None else {}

    def _row(self, case_id: str) -> dict:
        study = self.study
        c = study.case(case_id)
        r = study.result(c.id)
        score = r["score"]
        return {
            "id": c.id,
            "i": self._index[c.id],
            "kind": c.kind,
            "video": c.video is not None,
            "qtype": c.question_type or "",
            "question": _cut(c.question),
            "truth": c.ground_truth,
            "answers": _truth_text(c),
            "choices": list(c.choices),
            "prediction": None if r["prediction"] is None else _cut(r["prediction"]),
            "score": None if score is None or not np.isfinite(score) else round(float(score), 4),
            "correct": r["correct"],
            "suggestions": [
                {"reason": s["reason"], "evidence": _cut(str(s.get("evidence", ""))),
                 **({"token": int(s["token"])} if isinstance(s.get("token"), (int, np.integer)) else {})}
                for s in r["suggestions"]
            ],
            "cached": study.cached(c.id),
            "error": study.errors.get(c.id),
        }

    def _update_row(self, case_id: str) -> dict:
        row = self._row(case_id)
        self._cases[self._index[case_id]] = row  # in place: the page gets the row in the reply
        return row

    def _picture_bytes(self, case_id: str, size: str) -> tuple[bytes, str]:
        """A case's first picture (a video's first frame), at most THUMB_SIZE / PICTURE_SIZE pixels, encoded."""
        from PIL import Image

        key = (case_id, size)
        if key in self._thumbs:
            self._thumbs.move_to_end(key)
            return self._thumbs[key]
        try:
            pic = self.study.pictures(case_id)[0]
        except CaseError:
            exp = self.study.explanation(case_id, compute=False)
            if exp is None or not exp.images:
                raise
            pic = exp.images[0]
        im = Image.fromarray(np.asarray(pic))
        side = THUMB_SIZE if size == "thumb" else PICTURE_SIZE
        im.thumbnail((side, side))
        out = encode_image(np.asarray(im), "jpeg" if size == "thumb" else self._format)
        self._thumbs[key] = out
        while len(self._thumbs) > 2000:
            self._thumbs.popitem(last=False)
        return out

    def _load(self, case_id: str) -> Explanation | None:
        """The case's record (cached or computed), put in ``_records`` as ``c<index>``; CaseError when it fails."""
        exp = self.study.explanation(case_id)
        if exp is None:
            return None
        rid = f"c{self._index[case_id]}"
        if rid not in self.payloads:
            self.explanations[rid] = exp
            self.payloads[rid] = build_payload(exp, image_format=self._format, max_inline_bytes=self._max_inline)
            while len(self.payloads) > self._keep_open:
                old = next(iter(self.payloads))
                self.payloads.pop(old)
                self.explanations.pop(old, None)
            self._records = [record_entry(k, p) for k, p in self.payloads.items()]
        return exp

    # -- messages ------------------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: list) -> None:
        """Answer a message from the page; a bad one gets an ``error`` reply, never an exception here."""
        if isinstance(content, dict) and content.get("type") in ("picture", "open", "annotate"):
            reply, data = self.answer(content)
            self.send(reply, [data] if data is not None else None)
        elif isinstance(content, dict) and content.get("type") != "maps":
            kind = content.get("type")
            reply = {"type": kind if isinstance(kind, str) else None,
                     "error": f"unknown message type {kind!r}: the board's page sends {BOARD_MESSAGES}"}
            if isinstance(content.get("request"), int):
                reply["request"] = content["request"]
            self.send(reply)
        else:
            super()._on_message(_widget, content, _buffers)

    def answer(self, content: dict) -> tuple[dict, bytes | None]:
        """The reply (and its buffer) to a ``picture``, ``open`` or ``annotate`` message from the page.

        >>> import tempfile, pathlib
        >>> from tam_widgets.testing.records import picture
        >>> b = FailureCaseBoard([{"id": "1", "image": picture(32, 32), "question": "What?", "answers": ["cat"]}])
        >>> b.answer({"type": "open", "request": 1, "case": "nope"})[0]["error"][:20]
        "no case 'nope' in th"
        """
        kind, request, cid = content.get("type"), content.get("request"), content.get("case")
        reply: dict[str, Any] = {"type": kind, "request": request if isinstance(request, int) else None,
                                 "case": cid if isinstance(cid, str) else None}
        if isinstance(request, bool) or not isinstance(request, int):
            return {**reply, "error": f"request must be an integer id, got {type(request).__name__}; "
                    f"the page sends {BOARD_MESSAGES}"}, None
        if not isinstance(cid, str) or cid not in self._index:
            return {**reply, "error": f"no case {cid!r} in this study; the page sends a case id from its list"}, None
        if kind == "picture":
            size = content.get("size", "thumb")
            if size not in ("thumb", "full"):
                return {**reply, "error": f"size must be 'thumb' or 'full', got {size!r}"}, None
            reply["size"] = size
            try:
                data, mime = self._picture_bytes(cid, size)
            except CaseError as e:
                return {**reply, "error": str(e)}, None
            return {**reply, "mime": mime}, data
        if kind == "open":
            try:
                exp = self._load(cid)
            except CaseError as e:
                return {**reply, "record": None, "row": self._update_row(cid), "error": str(e)}, None
            except Exception as e:  # a model failing in an unforeseen way is an error on this case
                self.study.errors[cid] = f"{type(e).__name__}: {e}"
                return {**reply, "record": None, "row": self._update_row(cid),
                        "error": f"case {cid!r}: explaining it failed: {type(e).__name__}: {e}"}, None
            rid = None if exp is None else f"c{self._index[cid]}"
            return {**reply, "record": rid, "row": self._update_row(cid)}, None
        # annotate
        if self.read_only:
            return {**reply, "error": "this board is read-only (no store): nothing can be saved"}, None
        changes = {k: content[k] for k in ("reason", "note", "flag", "token") if k in content}
        if isinstance(changes.get("note"), str) and len(changes["note"]) > MAX_NOTE:
            return {**reply, "error": f"not saved: the note is {len(changes['note'])} characters long; "
                    f"keep it under {MAX_NOTE}"}, None
        try:
            row = self.annotate(cid, **changes)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            return {**reply, "error": f"not saved: {e}"}, None
        except OSError as e:
            return {**reply, "error": f"not saved: the store could not be written ({e}); earlier annotations are "
                    "kept"}, None
        return {**reply, "annotation": row}, None

    def _on_reasons(self, change: dict) -> None:
        self.study.reasons = list(change["new"])

    # -- the display output --------------------------------------------------------------------------
    def _counts(self) -> dict[str, int]:
        correct = collections.Counter(r["correct"] for r in self._cases)
        return {"cases": len(self._cases), "failed": correct[False], "correct": correct[True],
                "unknown": correct[None], "annotated": sum(1 for k in self._all_notes() if k in self._index)}

    def _summary(self) -> str:
        """Counts, the store and the opened case."""
        n = self._counts()
        lines = [
            f"FailureCaseBoard: {n['cases']} cases ({n['failed']} failed, {n['correct']} correct, "
            f"{n['unknown']} not answered yet), {n['annotated']} annotated",
            f"store: {self.study.store.path if self.study.store else 'none (read-only)'}",
        ]
        if self.case:
            row = self._cases[self._index[self.case]]
            note = self._all_notes().get(self.case, {})
            lines += [
                f"open: case {self.case}: {row['question']}",
                f"answer: {row['prediction'] if row['prediction'] is not None else '(none yet)'}; "
                f"ground truth: {row['answers']}",
                f"reason: {note.get('reason') or '(none)'}",
            ]
        return "\n".join(lines)

    def _picture(self) -> bytes:
        """The opened case's token map (when it has a record), else the first cases of the list as a table."""
        exp = self._shown()
        if exp is not None:
            sel = self.selected if self.selected in set(exp.explained.tolist()) else None
            token, method = state.starting_point(exp, sel, self.method if self.method in exp.methods else None)
            return snapshot_png(exp, token, method, self.colormap, 0)
        return self._list_png()

    def _list_png(self, rows: int = 12) -> bytes:
        """The first ``rows`` cases (study order) as a table: verdict, id, question, answer, truth, reason, flag."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        def cut(text: str, n: int) -> str:
            return text if len(text) <= n else text[: n - 1] + "…"

        n, notes = self._counts(), self._all_notes()
        shown = self._cases[:rows]
        h = 0.5 + 0.28 * (len(shown) + 2)
        fig = Figure(figsize=(9, h), dpi=100)
        FigureCanvasAgg(fig)
        kw = dict(usetex=False, parse_math=False, fontsize=8.5, va="top", family="DejaVu Sans")
        y = 1 - 0.15 / h
        more = f"; the first {len(shown)} shown" if len(self._cases) > len(shown) else ""
        fig.text(0.01, y, f"Failure cases: {n['cases']} ({n['failed']} failed, {n['correct']} correct, "
                 f"{n['unknown']} not answered), {n['annotated']} annotated{more}", fontweight="bold", **kw)
        y -= 0.4 / h
        cols = (("id", 0.01, 10), ("question", 0.10, 50), ("answer", 0.50, 18), ("ground truth", 0.64, 20),
                ("reason", 0.80, 24))
        for name, x, _ in cols:
            fig.text(x, y, name, color="0.35", **kw)
        for r in shown:
            y -= 0.28 / h
            verdict = {True: "✓", False: "✗", None: "·"}[r["correct"]]
            note = notes.get(r["id"]) or {}
            reason = ("⚑ " if note.get("flag") else "") + (note.get("reason") or "")
            cells = (f"{verdict} {r['id']}", r["question"], r["prediction"] or "—", r["answers"], reason)
            for text, (_, x, width) in zip(cells, cols):
                fig.text(x, y, cut(text, width), color={"✗": "#b42318", "✓": "#1a7f37"}.get(verdict, "0.1")
                         if x < 0.05 else "0.1", **kw)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=100)
        return out.getvalue()

    # -- the offline page ----------------------------------------------------------------------------
    def page_document(self, thumbnails: bool = True) -> dict:
        """The board as a page document: every case row, the annotations, the records that exist (computed
        none), a thumbnail per case, read-only (see ``js/README.md``)."""
        records = []
        for c in self.study.case_list:
            try:
                exp = self.study.explanation(c.id, compute=False)
            except CaseError:
                continue
            if exp is not None and exp.explained.size:
                records.append(record_document(f"c{self._index[c.id]}", exp, image_format=self._format))
        rows = [self._row(c.id) for c in self.study.case_list]
        thumbs: dict[str, list[str]] = {}
        if thumbnails:
            for c in self.study.case_list:
                try:
                    data, mime = self._picture_bytes(c.id, "thumb")
                except CaseError:
                    continue
                thumbs[c.id] = [mime, base64.b64encode(data).decode("ascii")]
        doc_state = {k: getattr(self, k) for k in state.BOARD_ATTRS}
        doc_state.update({k: getattr(self, k) for k in _TOKEN_MAP_ATTRS})
        doc_state.update(read_only=True, selected=-1, region=[], frame=0, _cases=rows, _notes=self._read_notes(),
                         _notes_new={}, _thumbs=thumbs)
        return {"format": PAGE_FORMAT, "version": PAGE_VERSION, "view": self.VIEW, "records": records,
                "state": doc_state}

    def to_html(self, path: str | os.PathLike | None = None, *, title: str | None = None, thumbnails: bool = True):
        """Write the whole study as one offline, read-only HTML page (or return its text when ``path`` is None).

        The page holds every case's row and annotation, a thumbnail per case and the records that are cached
        (none is computed here); its filters, sorting and token maps work without a kernel.

            board.to_html("study.html")
        """
        for name in ("widget.css", "standalone.js"):
            bundle(name)
        doc = self.page_document(thumbnails=thumbnails)
        n = self._counts()
        heading = title if title is not None else f"Failure cases: {n['cases']} ({n['failed']} failed)"
        return write_page(doc, path, title=heading)
