"""Generic I/O: the append-only JSONL journal and its OS lock (atomic_write's tests are in tests/record)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from tam_widgets.io import Journal, JournalWarning, flock


def test_append_and_read_back_in_order(tmp_path):
    j = Journal(tmp_path / "runs.jsonl")
    assert list(j.rows()) == []  # no file yet: no rows
    rows = [{"id": "a", "x": 1.5}, {"id": "b", "nested": {"k": [1, None]}}, {"id": "é"}]
    with j.lock():
        for r in rows:
            j.append(r)
    assert list(j.rows()) == [(1, rows[0]), (2, rows[1]), (3, rows[2])]
    assert j.path.read_text(encoding="utf-8").count("\n") == 3
    assert repr(j) == f"Journal({str(j.path)!r})"


def test_append_is_fsynced_and_refuses_nan(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    j = Journal(tmp_path / "a.jsonl")
    j.append({"id": "a"})
    assert len(synced) == 1
    with pytest.raises(ValueError):
        j.append({"id": "b", "score": float("nan")})
    assert [row for _, row in j.rows()] == [{"id": "a"}]


def test_bad_lines_are_reported_as_file_and_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "a"}\n\nnot json\n[1, 2]\n{"noid": 1}\n{"id": "b"}\n{"id": "c"', encoding="utf-8")
    j = Journal(path, check=lambda row: None if isinstance(row.get("id"), str) else "no 'id'")
    with pytest.warns(JournalWarning) as caught:
        got = list(j.rows())
    assert got == [(1, {"id": "a"}), (6, {"id": "b"})]
    messages = [str(w.message) for w in caught]
    assert messages == [
        f"{path}:3: not JSON (Expecting value); line skipped",
        f"{path}:4: not a JSON object but list; line skipped",
        f"{path}:5: no 'id'; line skipped",
        f"{path}:7: incomplete last line (a killed run?); line skipped",
    ]


def test_repair_cuts_only_a_half_written_last_line(tmp_path):
    class Mine(UserWarning):
        pass

    path = tmp_path / "r.jsonl"
    j = Journal(path, warning=Mine)
    assert j.repair() is None  # no file
    path.write_text('{"id": "a"}\n{"id": "b"}\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert j.repair() is None  # complete: untouched, no warning
    path.write_bytes(path.read_bytes() + b'{"id": "c", "x"')
    with pytest.warns(Mine, match=r"r\.jsonl:3: cut off a half-written last line \(left by a killed run\); redo c"):
        assert j.repair("redo c") == 3
    assert path.read_text(encoding="utf-8") == '{"id": "a"}\n{"id": "b"}\n'
    j.append({"id": "c"})
    assert [row["id"] for _, row in j.rows()] == ["a", "b", "c"]


def test_the_lock_keeps_a_second_writer_out(tmp_path):
    j = Journal(tmp_path / "r.jsonl")
    assert j.lock_path == tmp_path / "r.lock"
    with j.lock():
        with pytest.raises(BlockingIOError):  # flock locks belong to open files: a second open is refused
            with Journal(j.path).lock():
                pass
        code = (
            "import sys\nfrom tam_widgets.io import Journal\n"
            "try:\n    Journal(sys.argv[1]).lock().__enter__()\nexcept BlockingIOError:\n    sys.exit(3)\n"
        )
        busy = subprocess.run([sys.executable, "-c", code, str(j.path)], cwd=os.getcwd(), timeout=60)
        assert busy.returncode == 3
    with j.lock():  # released on exit
        pass
    with flock(tmp_path / "other.lock", blocking=True):
        assert (tmp_path / "other.lock").exists()


def test_evaluate_writes_its_results_through_the_journal(tmp_path):
    from tam_widgets.evaluate import Evaluation, EvaluationWarning, read_rows

    ev = Evaluation(tmp_path, (0, 1), "abc")
    ev.append({"id": "s1", "score": float("inf")})
    assert json.loads(ev.path.read_text()) == {"id": "s1", "score": None, "settings": "abc"}
    ev.path.write_text(ev.path.read_text() + '{"no_id": 1}\n', encoding="utf-8")
    with pytest.warns(EvaluationWarning, match=r"results-0-of-1\.jsonl:2: no sample 'id'; line skipped"):
        assert [row["id"] for _, row in read_rows(ev.path)] == ["s1"]
