"""The annotation store never loses anything: killed writers, two writers, corrupt lines, reopening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import pandas as pd
import pytest

from tam_widgets.studies import AnnotationStore, AnnotationWarning, Study

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cases(n: int = 3) -> list[dict]:
    return [{"id": f"c{k}", "image": "x.jpg", "question": "What?", "answers": ["cat"] * 10} for k in range(n)]


def test_annotations_survive_a_new_kernel_and_merge_fields(tmp_path):
    store = tmp_path / "study" / "annotations.jsonl"
    s = Study(_cases(), store=store)
    s.annotate("c0", reason="missed object", note="the cup")
    s.annotate("c0", flag=True)  # other fields kept
    s.annotate("c1", note="unclear", token=5)
    again = Study(_cases(), store=store)
    df = again.annotations.set_index("case_id")
    assert df.loc["c0", ["reason", "note", "flag"]].tolist() == ["missed object", "the cup", True]
    assert df.loc["c1", "token"] == 5 and df.loc["c1", "reason"] is None
    assert list(again.annotations.columns) == ["case_id", "reason", "note", "flag", "token", "updated"]
    assert again.annotations.updated.str.endswith("+00:00").all()
    assert len(store.read_text().splitlines()) == 3  # append-only until compacted
    again.annotate("c0", reason=None)
    assert Study(_cases(), store=store).annotations.set_index("case_id").loc["c0", "reason"] is None


def test_bad_annotations_are_refused_and_nothing_is_written(tmp_path):
    store = tmp_path / "a.jsonl"
    s = Study(_cases(), store=store)
    with pytest.raises(ValueError, match="unknown reason 'tired'.*study.reasons.append"):
        s.annotate("c0", reason="tired")
    with pytest.raises(KeyError, match="no case 'zz'"):
        s.annotate("zz", note="x")
    with pytest.raises(TypeError, match="flag must be True or False"):
        s.annotate("c0", flag="yes")
    with pytest.raises(TypeError, match="token must be a token index"):
        s.annotate("c0", token=1.5)
    with pytest.raises(ValueError, match="nothing to annotate"):
        s.annotate("c0")
    assert not store.exists()
    s.reasons.append("tired")  # the taxonomy is editable
    assert s.annotate("c0", reason="tired")["reason"] == "tired"
    with pytest.raises(ValueError, match="has no store"):
        Study(_cases()).annotate("c0", note="x")


def test_two_studies_on_one_store_keep_each_others_cases(tmp_path):
    store = tmp_path / "a.jsonl"
    a, b = Study(_cases(), store=store), Study(_cases(), store=store)
    assert a.annotations.empty and b.annotations.empty  # both have read the (empty) store
    a.annotate("c0", reason="other", note="from a")
    b.annotate("c1", note="from b")
    a.annotate("c1", flag=True)  # merges into b's row of c1, not a's stale view
    b.annotate("c0", flag=True)
    rows = AnnotationStore(store).read()
    assert rows["c0"]["note"] == "from a" and rows["c0"]["flag"] is True and rows["c0"]["reason"] == "other"
    assert rows["c1"]["note"] == "from b" and rows["c1"]["flag"] is True


_WRITER = textwrap.dedent(
    """
    import sys
    from tam_widgets.studies import AnnotationStore
    store = AnnotationStore(sys.argv[1])
    prefix, n = sys.argv[2], int(sys.argv[3])
    for i in range(n):
        store.put(f"{prefix}{i}", note="x" * 2000 + str(i), token=i)
        print(i, flush=True)
    """
)


def _writer(store, prefix: str, n: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store), prefix, str(n)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_a_writer_killed_mid_append_loses_at_most_the_change_in_flight(tmp_path):
    store = tmp_path / "a.jsonl"
    proc = _writer(store, "k", 100000)
    done = []
    for line in proc.stdout:
        done.append(int(line))
        if len(done) >= 40:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done += [int(x) for x in proc.stdout.read().split()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnnotationWarning)  # a cut-off last line, if the kill hit a write
        rows = AnnotationStore(store).read()
    for i in done:  # every change whose call returned is there, intact
        assert rows[f"k{i}"]["note"] == "x" * 2000 + str(i) and rows[f"k{i}"]["token"] == i
    assert len(done) <= len(rows) <= len(done) + 1
    # the next writer appends after any half-written line without touching the earlier bytes
    before = store.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnnotationWarning)
        AnnotationStore(store).put("after", note="kill")
        assert AnnotationStore(store).read()["after"]["note"] == "kill"
    assert store.read_bytes().startswith(before)


_HALF = textwrap.dedent(
    """
    import json, os, sys, time
    from tam_widgets.io import Journal
    from tam_widgets.studies import AnnotationStore
    store = AnnotationStore(sys.argv[1])
    for i in range(5):
        store.put(f"k{i}", note=f"note {i}")

    def half_append(self, row):  # the append in flight when the kill comes: half its bytes are on disk
        text = json.dumps(row) + "\\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text[: len(text) // 2])
            f.flush()
            os.fsync(f.fileno())
        print("mid-append", flush=True)
        time.sleep(120)

    Journal.append = half_append
    store.put("k5", note="in flight")
    """
)


def test_a_process_killed_in_the_middle_of_an_append_loses_only_that_change(tmp_path):
    store = tmp_path / "a.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HALF, str(store)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.stdout.readline().strip() == "mid-append"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not store.read_bytes().endswith(b"\n")  # the kill left half a line
    with pytest.warns(AnnotationWarning, match=r"a\.jsonl:6: incomplete last line"):
        rows = Study([], store=store).annotations
    assert rows.set_index("case_id").note.to_dict() == {f"k{i}": f"note {i}" for i in range(5)}
    with pytest.warns(AnnotationWarning, match="incomplete last line"):
        AnnotationStore(store).put("k5", note="again")
    with pytest.warns(AnnotationWarning, match=r"a\.jsonl:6: not JSON"):
        rows = AnnotationStore(store).read()
    assert rows["k5"]["note"] == "again" and len(rows) == 6


def test_a_half_written_line_is_reported_and_kept_until_compaction(tmp_path):
    store = tmp_path / "a.jsonl"
    s = AnnotationStore(store)
    s.put("a", note="first")
    with open(store, "a") as f:  # what a kill during write() leaves
        f.write('{"case_id": "b", "note": "hal')
    with pytest.warns(AnnotationWarning, match=r"a\.jsonl:2: incomplete last line"):
        assert list(AnnotationStore(store).read()) == ["a"]
    with pytest.warns(AnnotationWarning, match="incomplete last line"):  # put re-reads the store
        s.put("c", note="third")
    with pytest.warns(AnnotationWarning, match=r"a\.jsonl:2: not JSON"):
        rows = AnnotationStore(store).read()
    assert sorted(rows) == ["a", "c"]
    assert store.read_text().splitlines()[1] == '{"case_id": "b", "note": "hal'  # not rewritten


def test_a_corrupt_line_is_reported_with_its_number_skipped_and_not_rewritten(tmp_path):
    store = tmp_path / "a.jsonl"
    s = Study(_cases(), store=store)
    s.annotate("c0", note="zero")
    with open(store, "a") as f:
        f.write("garbage\n")
        f.write(json.dumps({"case_id": 7, "note": "bad id"}) + "\n")
        f.write(json.dumps({"case_id": "c2", "flag": "yes"}) + "\n")
    with pytest.warns(AnnotationWarning, match="line skipped"):
        s.annotate("c1", note="one")
    before = store.read_bytes()
    with pytest.warns(AnnotationWarning) as caught:
        df = Study(_cases(), store=store).annotations
    messages = " | ".join(str(w.message) for w in caught)
    assert "a.jsonl:2: not JSON" in messages and "a.jsonl:3: no 'case_id' string" in messages
    assert "a.jsonl:4: 'flag' is not true/false" in messages
    assert df.set_index("case_id").note.to_dict() == {"c0": "zero", "c1": "one"}
    assert store.read_bytes() == before  # reading never rewrites
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnnotationWarning)
        assert s.compact() == 2  # only when asked: one row per case, the bad lines gone
    assert [json.loads(x)["case_id"] for x in store.read_text().splitlines()] == ["c0", "c1"]
    assert Study(_cases(), store=store).annotations.note.tolist() == ["zero", "one"]


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    store = tmp_path / "a.jsonl"
    procs = [_writer(store, p, 30) for p in ("p", "q")]
    for proc in procs:
        proc.communicate()
        assert proc.returncode == 0
    rows = AnnotationStore(store).read()
    assert sorted(rows) == sorted([f"p{i}" for i in range(30)] + [f"q{i}" for i in range(30)])
    assert len(store.read_text().splitlines()) == 60


def test_exports_are_csv_or_jsonl(tmp_path):
    s = Study(_cases(), store=tmp_path / "a.jsonl")
    s.annotate("c0", reason="other", note='comma, "quote"\nnewline', flag=True)
    s.annotate("c2", note="é")
    df = pd.read_csv(s.export_annotations(tmp_path / "out.csv"))
    assert df.case_id.tolist() == ["c0", "c2"] and df.note[0] == 'comma, "quote"\nnewline' and df.flag[0]
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8") if s.export_annotations(tmp_path / "out.jsonl") else ""
    rows = [json.loads(x) for x in lines.splitlines()]
    assert [r["case_id"] for r in rows] == ["c0", "c2"] and rows[1]["note"] == "é" and rows[0]["reason"] == "other"
    with pytest.raises(ValueError, match=r"\.csv or \.jsonl"):
        s.export_annotations(tmp_path / "out.xlsx")


def test_a_read_after_appends_reads_only_the_new_lines_and_sees_every_other_change(tmp_path, monkeypatch):
    path = tmp_path / "annotations.jsonl"
    rows = [{"case_id": f"c{k}", "reason": None, "note": f"n{k}", "flag": False, "token": None, "updated": "t"}
            for k in range(3000)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    mine, other = AnnotationStore(path), AnnotationStore(path)
    assert len(mine.read()) == 3000
    parsed: list[int] = []
    parse = mine.journal.parse

    def counting(lines, first=1):
        parsed.append(len(lines))
        return parse(lines, first)

    monkeypatch.setattr(mine.journal, "parse", counting)
    mine.put("c1", note="mine")
    other.put("c2", note="theirs")  # another notebook appends
    assert mine.read()["c2"]["note"] == "theirs" and mine.get("c1")["note"] == "mine"
    assert sum(parsed) <= 3  # the new lines only, not 3,000 again
    # a half-written line from a killed writer: warned about with its line number, then closed by the next append
    with open(path, "a") as f:
        f.write('{"case_id": "c3", "no')
    with pytest.warns(AnnotationWarning, match=":3003: incomplete last line"):
        assert mine.read()["c3"]["note"] == "n3"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        other.put("c4", flag=True)  # the other store sees the cut line once, then closes it
        assert mine.read()["c4"]["flag"] is True
    said = [str(w.message).split(".jsonl:", 1)[1] for w in caught]
    assert said == ["3003: incomplete last line (a killed run?); line skipped",
                    "3003: not JSON (Invalid control character at); line skipped"], said
    # compacted by the other notebook (a new file) or edited in place: read again in full
    with pytest.warns(AnnotationWarning, match=":3003: not JSON"):
        assert other.compact() == 3000  # the cut line is dropped
    assert mine.read()["c4"]["flag"] is True and mine.read()["c1"]["note"] == "mine"
    text = path.read_text()
    path.write_text(text.replace('"note": "n7"', '"note": "N7"'))
    assert mine.read()["c7"]["note"] == "N7"
    assert mine.read() == AnnotationStore(path).read()
