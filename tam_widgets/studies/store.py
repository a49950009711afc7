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
        self._cache: dict | None = None  # what was read: see _rows

    def __repr__(self) -> str:
        return f"AnnotationStore({str(self.path)!r})"

    #: bytes before the read offset compared on each read: an appended file is read from there on
    _CHECK = 64

    def _rows(self) -> dict[str, dict]:
        """``{case_id: row}`` up to date with the file (the cache itself: do not change it).

        The file only grows by appends (a rewrite replaces it): when it is the same file (inode), longer than at
        the last read and the bytes just before where that read stopped are unchanged, only the new lines are
        read, so a change costs the same at 5,000 annotations as at 5. Anything else (compacted, cut, edited
        in place) reads it all again.
        """
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._cache = None
            return {}
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        c = self._cache
        if c is not None and c["stamp"] == stamp:
            return c["view"]
        if c is None or c["ino"] != st.st_ino or st.st_size <= c["stamp"][0]:  # appends only ever grow it
            c = None
        with open(self.path, "rb") as f:
            if c is not None:
                start = c["offset"] - len(c["check"])
                f.seek(start)
                if f.read(len(c["check"])) != c["check"]:
                    c = None
            if c is None:
                c = {"ino": st.st_ino, "offset": 0, "line": 1, "rows": {}, "check": b""}
                f.seek(0)
            data = f.read()
        end = data.rfind(b"\n") + 1  # complete lines join the cache; a last line still being written does not
        lines = data[:end].decode("utf-8", errors="replace").splitlines(keepends=True)
        for _, row in self.journal.parse(lines, c["line"]):
            c["rows"][row["case_id"]] = {**_EMPTY, **{k: row.get(k) for k in FIELDS if k in row}}
        c["line"] += len(lines)
        c["offset"] += end
        done = c["offset"]
        if done:
            with open(self.path, "rb") as f:
                f.seek(max(0, done - self._CHECK))
                c["check"] = f.read(done - max(0, done - self._CHECK))
        view = c["rows"]
        if data[end:].strip():
            tail = data[end:].decode("utf-8", errors="replace").splitlines(keepends=True)
            view = dict(view)
            for _, row in self.journal.parse(tail, c["line"]):
                view[row["case_id"]] = {**_EMPTY, **{k: row.get(k) for k in FIELDS if k in row}}
        c["stamp"], c["view"] = stamp, view
        self._cache = c
        return view

    def read(self) -> dict[str, dict]:
        """``{case_id: row}``, the last valid row of each case (new lines read when the file grew)."""
        return {k: dict(v) for k, v in self._rows().items()}

    def get(self, case_id: str) -> dict | None:
        """The latest annotation of ``case_id``, or None."""
        row = self._rows().get(case_id)
        return None if row is None else dict(row)

    def put(self, case_id: str, **changes: Any) -> dict:
        """Merge ``changes`` (reason, note, flag, token) into the case's latest row and append it; the new row.

        Durable when this returns; waits while another writer holds the lock.
        """
        bad = set(changes) - set(_EMPTY)
        if bad:
            raise ValueError(f"unknown annotation fields {sorted(bad)}; fields are {sorted(_EMPTY)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.journal.lock(blocking=True):
            row = {**_EMPTY, **(self._rows().get(case_id) or {}), **changes, "case_id": case_id}
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
            self._cache = None  # read it all: the rewrite keeps what a full read sees
            rows = self.read()
            text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows.values())
            atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))
            self._cache = None
        return len(rows)
