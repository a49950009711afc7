"""The annotation store: a :class:`tam_widgets.io.Journal` of full per-case rows, last write per case wins.

Every :meth:`AnnotationStore.put` re-reads the file under the journal's OS lock, merges the change into
that case's latest row and appends the result (flushed and fsynced before returning), so two stores on
one file (two notebooks) never overwrite each other's annotations of other cases, and a kill loses at
most the row being written. A corrupt line is reported as ``file:line`` and skipped; the file is only
rewritten by :meth:`AnnotationStore.compact`.

>>> import tempfile
>>> s = AnnotationStore(Path(tempfile.mkdtemp()) / "annotations.jsonl")
>>> s.put("q1", reason="other", note="blurry")["note"]
'blurry'
>>> s.put("q1", flag=True)["reason"], len(s.path.read_text().splitlines())
('other', 2)
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

from ..io import Journal, JournalWarning, atomic_write

__all__ = ["FIELDS", "AnnotationStore", "AnnotationWarning"]

#: the columns of an annotation (``updated``: UTC ISO time of the last change)
FIELDS = ("case_id", "reason", "note", "flag", "token", "updated")
_EMPTY = {"reason": None, "note": "", "flag": False, "token": None}


class AnnotationWarning(JournalWarning):
    """A line of the annotation store was skipped (the message says ``file:line`` and why).

    >>> import tempfile, warnings
    >>> path = Path(tempfile.mkdtemp()) / "annotations.jsonl"
    >>> _ = path.write_text('{"case_id": "1", "note": "ok"}\\nnot json\\n')
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rows = AnnotationStore(path).read()
    >>> list(rows), caught[0].category.__name__
    (['1'], 'AnnotationWarning')
    """


def _check(row: dict) -> str | None:
    if not isinstance(row.get("case_id"), str):
        return "no 'case_id' string"
    if row.get("reason") is not None and not isinstance(row["reason"], str):
        return "'reason' is not a string"
    if not isinstance(row.get("note", ""), str):
        return "'note' is not a string"
    if not isinstance(row.get("flag", False), bool):
        return "'flag' is not true/false"
    tok = row.get("token")
    if tok is not None and (isinstance(tok, bool) or not isinstance(tok, int)):
        return "'token' is not an integer"
    return None


class AnnotationStore:
    """Annotations of a study's cases in a JSONL file (created with its folder on the first change).

    Every change appends one line (flushed and fsynced), so a crash loses nothing saved; the last line of a
    case wins.

    >>> import tempfile
    >>> store = AnnotationStore(Path(tempfile.mkdtemp()) / "study" / "annotations.jsonl")
    >>> _ = store.put("17", reason="lack of knowledge", note="says 'dog'")
    >>> _ = store.put("17", flag=True)  # merged into the case's latest row
    >>> row = store.get("17"); row["reason"], row["note"], row["flag"]
    ('lack of knowledge', "says 'dog'", True)
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(os.fspath(path))
        if self.path.exists() and not self.path.is_file():
            raise ValueError(
                f"the annotation store {self.path} is not a file; pass a path like study/annotations.jsonl"
            )
        self.journal = Journal(self.path, warning=AnnotationWarning, check=_check)
        self._cache: tuple[tuple, dict[str, dict]] | None = None

    def __repr__(self) -> str:
        return f"AnnotationStore({str(self.path)!r})"

    def _stamp(self) -> tuple:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return ()
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def read(self) -> dict[str, dict]:
        """``{case_id: row}``, the last valid row of each case (re-read when the file changed)."""
        stamp = self._stamp()
        if self._cache is not None and self._cache[0] == stamp:
            return {k: dict(v) for k, v in self._cache[1].items()}
        rows: dict[str, dict] = {}
        for _, row in self.journal.rows():
            rows[row["case_id"]] = {**_EMPTY, **{k: row.get(k) for k in FIELDS if k in row}}
        self._cache = (stamp, rows)
        return {k: dict(v) for k, v in rows.items()}

    def get(self, case_id: str) -> dict | None:
        """The latest annotation of ``case_id``, or None."""
        return self.read().get(case_id)

    def put(self, case_id: str, **changes: Any) -> dict:
        """Merge ``changes`` (reason, note, flag, token) into the case's latest row and append it; the new row.

        Durable when this returns; waits while another writer holds the lock.
        """
        bad = set(changes) - set(_EMPTY)
        if bad:
            raise ValueError(f"unknown annotation fields {sorted(bad)}; fields are {sorted(_EMPTY)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.journal.lock(blocking=True):
            row = {**_EMPTY, **(self.read().get(case_id) or {}), **changes, "case_id": case_id}
            row["updated"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
            why = _check(row)
            if why:
                raise ValueError(f"annotation of case {case_id!r}: {why}")
            row = {k: row[k] for k in FIELDS}
            self._append(row)
        return dict(row)

    def _append(self, row: dict) -> None:
        """Append one row; a half-written last line (a killed writer) is closed by a newline, not removed."""
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                last = f.read(1)
            if last != b"\n":
                with open(self.path, "ab") as f:
                    f.write(b"\n")
        self.journal.append(row)

    def compact(self) -> int:
        """Rewrite the file atomically with one row per case (corrupt lines are dropped); rows kept."""
        with self.journal.lock(blocking=True):
            rows = self.read()
            text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows.values())
            atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))
            self._cache = None
        return len(rows)
