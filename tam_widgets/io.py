"""Files that are never left half-written: :func:`atomic_write` and the clean-up of killed writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

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
