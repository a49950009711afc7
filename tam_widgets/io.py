"""Files that survive kills: :func:`atomic_write` (never half-written) and :class:`Journal` (append-only JSONL).

* :func:`atomic_write` replaces a file whole or not at all, and cleans up what killed writes left;
* :class:`Journal` appends one JSON object per line (flushed and fsynced), holds a per-file OS lock
  (:func:`flock`), cuts off a half-written last line left by a kill, and reads rows back reporting
  bad lines as ``file:line: reason`` warnings. Evaluation runs write their results with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

#: Temporary files of :func:`atomic_write` left by a killed writer are removed once they are this old
#: (seconds since their last write), or as soon as their writer's process is gone (same host only).
STALE_AFTER = 15 * 60
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _temp_pattern(path: Path) -> re.Pattern:
    """The names :func:`atomic_write` gives its temporary files for ``path``: host tag, pid, random part."""
    return re.compile(rf"\.{re.escape(path.name)}\.(?:([0-9a-f]{{8}})\.(\d+)\.)?[0-9a-f]{{12}}\.tmp")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or not a pid we can check: assume alive
    return True


def remove_stale_temp_files(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files that killed :func:`atomic_write` calls for ``path`` left behind.

    Only files named like ``atomic_write``'s own for this ``path`` are touched, and only when their
    writer's process (on this host) is gone or they were last written more than ``STALE_AFTER``
    seconds ago, so another save in progress keeps its file. Returns the removed paths.
    """
    path = Path(os.fspath(path))
    pattern, removed = _temp_pattern(path), []
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return removed
    now = time.time()
    for p in candidates:
        host, pid = pattern.fullmatch(p.name).groups()
        try:
            age = now - p.lstat().st_mtime
        except OSError:
            continue
        dead = host == _HOST and pid is not None and int(pid) != os.getpid() and not _pid_alive(int(pid))
        if dead or age > STALE_AFTER:
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` through ``write(file)`` without ever leaving a partial or damaged file.

    The bytes go to a temporary file beside ``path`` (opened ``"xb"``, named
    ``.<name>.<host>.<pid>.<random>.tmp``), which is fsynced, given the old file's mode when there
    is one, and renamed over ``path``; any failure removes the temporary file and leaves ``path`` as
    it was. Temporary files that killed writers left for ``path`` are removed first
    (:func:`remove_stale_temp_files`). Returns ``path`` as a ``Path``.

    >>> import tempfile
    >>> path = atomic_write(Path(tempfile.mkdtemp()) / "notes.txt", lambda f: f.write(b"saved"))
    >>> path.read_bytes()
    b'saved'
    """
    path = Path(os.fspath(path))
    remove_stale_temp_files(path)
    tmp = path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


# -- append-only JSONL journals ------------------------------------------------------------------
@contextlib.contextmanager
def flock(path: str | os.PathLike, *, blocking: bool) -> Iterator[None]:
    """An exclusive OS lock on ``path`` (created if needed), released on exit or when the process dies.

    ``BlockingIOError`` when another process holds it and ``blocking`` is false.
    """
    import fcntl

    f = open(path, "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BaseException:
        f.close()
        raise
    try:
        yield
    finally:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        f.close()


class JournalWarning(UserWarning):
    """A line of a journal was skipped or cut off (the message says ``file:line`` and why)."""


class Journal:
    """An append-only file of JSON objects, one per line, that a kill never leaves unreadable.

    >>> import tempfile
    >>> j = Journal(Path(tempfile.mkdtemp()) / "runs.jsonl")
    >>> with j.lock():
    ...     j.append({"id": "a", "score": 0.5})
    >>> [row for _, row in j.rows()]
    [{'id': 'a', 'score': 0.5}]

    ``warning`` is the category of the ``file:line`` warnings (evaluation runs use their own);
    ``check(row) -> reason or None`` refuses rows a reader cannot use (``rows`` skips them).
    Hold :meth:`lock` while appending so one process writes a file at a time.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        warning: type[Warning] = JournalWarning,
        check: Callable[[dict], str | None] | None = None,
    ):
        self.path = Path(os.fspath(path))
        self.warning = warning
        self.check = check

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @property
    def lock_path(self) -> Path:
        """The file whose OS lock :meth:`lock` holds: the journal's name with ``.lock``."""
        return self.path.with_suffix(".lock")

    def lock(self, *, blocking: bool = False) -> contextlib.AbstractContextManager[None]:
        """Hold the journal's OS lock (:func:`flock` on :attr:`lock_path`); ``BlockingIOError`` if busy."""
        return flock(self.lock_path, blocking=blocking)

    def repair(self, note: str = "", stacklevel: int = 2) -> int | None:
        """Cut off a half-written last line left by a killed writer; its line number (warned about), or None.

        ``note`` is added to the warning (what happens to that row).
        """
        if not self.path.exists():
            return None
        raw = self.path.read_bytes()
        if not raw or raw.endswith(b"\n"):
            return None
        keep = raw.rfind(b"\n") + 1
        with open(self.path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        line = raw[:keep].count(b"\n") + 1
        tail = f"; {note}" if note else ""
        warnings.warn(
            f"{self.path}:{line}: cut off a half-written last line (left by a killed run){tail}",
            self.warning,
            stacklevel=stacklevel + 1,
        )
        return line

    def append(self, row: dict[str, Any]) -> None:
        """Add one row as a line of strict JSON (no NaN), flushed and fsynced before returning."""
        text = json.dumps(row, allow_nan=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def rows(self) -> Iterator[tuple[int, dict]]:
        """``(line number, row)`` for every valid line; others are warned about as ``file:line: reason``.

        A valid line is a JSON object that ``check`` (when given) does not refuse; blank lines are
        skipped silently. A missing file has no rows.
        """
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8", errors="replace") as f:
            yield from self.parse(f)

    def parse(self, lines: Iterable[str], first_line: int = 1) -> Iterator[tuple[int, dict]]:
        """``(line number, row)`` of the valid ``lines`` (numbered from ``first_line``), as :meth:`rows` reads them.

        >>> list(Journal("x.jsonl").parse(['{"a": 1}\\n', "\\n"], first_line=7))
        [(7, {'a': 1})]
        """
        for lineno, line in enumerate(lines, start=first_line):
            if not line.strip():
                continue
            why = None
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                why = "incomplete last line (a killed run?)" if not line.endswith("\n") else f"not JSON ({e.msg})"
            else:
                if not isinstance(row, dict):
                    why = f"not a JSON object but {type(row).__name__}"
                elif self.check is not None:
                    why = self.check(row)
            if why is not None:
                # stacklevel 1: one place, so a line read twice (resume, then merge) is reported once
                warnings.warn(f"{self.path}:{lineno}: {why}; line skipped", self.warning, stacklevel=1)
                continue
            yield lineno, row
