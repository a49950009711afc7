"""FailureCaseBoard: state, the page's messages (open / picture / annotate / maps), hostile messages,
lazy records with an explainer, durable annotations (a new process restores them), snapshot and page."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
import traitlets
from PIL import Image

import tam_widgets as tw
from tam_widgets.studies import Study
from tam_widgets.widgets import state
from tam_widgets.widgets.board import FailureCaseBoard

from .board_study import FakeExplainer, make_cases, make_study

ROOT = Path(__file__).resolve().parents[2]


def wire(board: FailureCaseBoard, monkeypatch) -> list:
    sent: list = []
    monkeypatch.setattr(board, "send", lambda content, buffers=None: sent.append((content, buffers)))
    return sent


def ask(board: FailureCaseBoard, sent: list, content) -> tuple[dict, list | None]:
    board._on_message(board, content, [])  # never raises
    return sent[-1]


@pytest.fixture
def study(tmp_path) -> Study:
    return make_study(tmp_path, n=8)


# -- state ----------------------------------------------------------------------------------------
def test_board_attributes_have_one_spec():
    assert state.defaults(state.BOARD_ATTRS) == {
        "case": "", "filters": state.FILTER_DEFAULTS, "sort": "order", "reasons": [], "read_only": False,
    }
    assert state.check_filters({"correct": "failed"}, None) == {**state.FILTER_DEFAULTS, "correct": "failed"}
    for bad, msg in [({"colour": "x"}, "unknown filter"), ({"correct": "wrong"}, "one of"), ({"flag": 1}, "str"),
                     ([], "dict"), ({"text": "x" * 501}, "at most 500")]:
        with pytest.raises(ValueError, match=msg):
            state.check_filters(bad, None)
    assert state.check_reasons(["a", "b", "a"], None) == ["a", "b"]
    for bad in ("abc", [""], [3], [state.NO_REASON], ["x" * 201]):
        with pytest.raises(ValueError):
            state.check_reasons(bad, None)
    with pytest.raises(ValueError, match="sort must be"):
        state.check_sort("random", None)


def test_synced_attributes_are_checked(study):
    board = FailureCaseBoard(study)
    board.filters = {"correct": "failed", "text": "cat"}
    assert board.filters["flag"] == "all" and board.filters["correct"] == "failed"
    with pytest.raises(traitlets.TraitError, match="no case 'nope'"):
        board.case = "nope"
    with pytest.raises(traitlets.TraitError, match="unknown filter"):
        board.filters = {"nope": "x"}
    board.reasons = [*board.reasons, "bad lighting"]
    assert study.reasons[-1] == "bad lighting"  # the taxonomy edited in the page is the study's
    board.annotate("q4", reason="bad lighting")
    assert board.annotations.reason.tolist() == ["bad lighting"]


def test_made_from_cases_or_a_study(tmp_path, study):
    cases = make_cases(tmp_path / "p", 3, broken=False)
    board = tw.FailureCaseBoard(cases, store=tmp_path / "s" / "annotations.jsonl", taxonomy=["blur", "other"])
    assert board.reasons == ["blur", "other"] and len(board._cases) == 3 and not board.read_only
    assert FailureCaseBoard(cases).read_only  # no store: nothing could be saved
    with pytest.raises(ValueError, match="own store"):
        FailureCaseBoard(study, store=tmp_path / "x.jsonl")
    for bad in ("cases.json", {"id": 1}, 3):
        with pytest.raises(TypeError, match="Study or a list of cases"):
            FailureCaseBoard(bad)
    with pytest.raises(ValueError, match="keep_open"):
        FailureCaseBoard(study, keep_open=0)


def test_rows_say_what_the_list_shows(study):
    board = FailureCaseBoard(study)
    rows = {r["id"]: r for r in board._cases}
    assert rows["q0"]["correct"] is True and rows["q0"]["prediction"] == "cat" and rows["q0"]["cached"]
    assert rows["q1"]["correct"] is False and rows["q1"]["answers"] == "umbrella ×7, other ×3"
    assert rows["q4"]["correct"] is None and rows["q4"]["prediction"] is None and not rows["q4"]["cached"]
    assert [r["i"] for r in board._cases] == list(range(8))
    assert len(json.dumps(board._cases)) < 8 * 600  # small: no pictures in the initial state
    assert board._records == []


# -- messages -------------------------------------------------------------------------------------
def test_open_a_cached_case_and_fetch_its_rows(study, monkeypatch):
    board = FailureCaseBoard(study, keep_open=2)
    sent = wire(board, monkeypatch)
    reply, buffers = ask(board, sent, {"type": "open", "request": 1, "case": "q1"})
    assert reply["record"] == "c1" and reply["row"]["id"] == "q1" and "error" not in reply and buffers is None
    assert [r["id"] for r in board._records] == ["c1"]
    reply, buffers = ask(board, sent, {"type": "maps", "request": 2, "record": "c1", "method": "tam", "start": 0,
                                       "stop": 1})
    assert "error" not in reply and len(buffers[0]) == board.payloads["c1"].meta["n_visual"]
    board.case = "q1"  # the page sets the case, then its map's attributes: checked against that record
    board.selected = int(board.explanations["c1"].explained[1])
    with pytest.raises(traitlets.TraitError):
        board.selected = 1
    for k, cid in enumerate(["q0", "q2"]):
        ask(board, sent, {"type": "open", "request": 3 + k, "case": cid})
    assert [r["id"] for r in board._records] == ["c0", "c2"]  # keep_open=2
    board.case = "q0"  # back to a case the page still holds (no open request): its own record checks
    board.selected = int(board.explanations["c0"].explained[0])
    board.case = "q5"  # a case without a record in the page: nothing to check against
    board.selected = 1


def test_without_an_explainer_a_case_opens_with_its_picture(study, monkeypatch):
    board = FailureCaseBoard(study)
    sent = wire(board, monkeypatch)
    reply, _ = ask(board, sent, {"type": "open", "request": 1, "case": "q5"})
    assert reply["record"] is None and "error" not in reply
    reply, buffers = ask(board, sent, {"type": "picture", "request": 2, "case": "q5", "size": "thumb"})
    assert reply["mime"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(buffers[0])).size) <= 96
    reply, buffers = ask(board, sent, {"type": "picture", "request": 3, "case": "q5", "size": "full"})
    assert Image.open(io.BytesIO(buffers[0])).size == (128, 96)
    reply, buffers = ask(board, sent, {"type": "picture", "request": 4, "case": "q3"})  # unreadable picture
    assert "cannot read its picture" in reply["error"] and buffers is None


def test_an_explainer_computes_once_and_errors_stay_on_their_case(tmp_path, monkeypatch):
    explainer = FakeExplainer()
    cases = make_cases(tmp_path / "p", 5)
    cases[4]["question"] = "Why does this fail?"
    board = FailureCaseBoard(cases, store=tmp_path / "s" / "annotations.jsonl", explainer=explainer)
    sent = wire(board, monkeypatch)
    reply, _ = ask(board, sent, {"type": "open", "request": 1, "case": "q2"})
    assert reply["record"] == "c2" and reply["row"]["prediction"] == "red" and reply["row"]["cached"]
    assert (tmp_path / "s" / "records" / "q2.tam").is_file() and len(explainer.calls) == 1
    ask(board, sent, {"type": "open", "request": 2, "case": "q2"})
    assert len(explainer.calls) == 1  # cached: the model runs once per case
    reply, _ = ask(board, sent, {"type": "open", "request": 3, "case": "q3"})  # unreadable picture
    assert reply["record"] is None and "cannot read its picture" in reply["error"]
    assert reply["row"]["error"]
    reply, _ = ask(board, sent, {"type": "open", "request": 4, "case": "q4"})  # the model fails
    assert "out of memory" in reply["error"] and "out of memory" in board._cases[4]["error"]
    reply, _ = ask(board, sent, {"type": "open", "request": 5, "case": "q0"})  # the board still works
    assert reply["record"] == "c0"


def test_annotations_from_the_page_are_durable(study, monkeypatch):
    board = FailureCaseBoard(study)
    sent = wire(board, monkeypatch)
    reply, _ = ask(board, sent, {"type": "annotate", "request": 1, "case": "q1", "reason": "missed object",
                                 "note": "only <b>the</b> sofa", "flag": True})
    assert reply["annotation"]["reason"] == "missed object" and reply["annotation"]["flag"] is True
    lines = study.store.path.read_text().splitlines()
    assert json.loads(lines[-1])["note"] == "only <b>the</b> sofa"  # on disk before the reply
    assert board._all_notes()["q1"]["reason"] == "missed object"
    reply, _ = ask(board, sent, {"type": "annotate", "request": 2, "case": "q1", "token": 13})
    assert reply["annotation"]["token"] == 13 and reply["annotation"]["note"] == "only <b>the</b> sofa"
    reply, _ = ask(board, sent, {"type": "annotate", "request": 3, "case": "q1", "reason": None})
    assert reply["annotation"]["reason"] is None and board.annotations.flag.tolist() == [True]
    assert [c.get("type") for c, _ in sent] == ["annotate"] * 3  # the page learns of changes by synced state


def synced(board: FailureCaseBoard) -> list[dict]:
    """The state updates the board would send to the page (each as the JSON text the comm would carry)."""
    from tam_widgets.testing.comm import capture_sends

    return capture_sends(board, lambda msg: {"state": msg["state"], "bytes": len(json.dumps(msg["state"]))})


def test_thousands_of_annotations_are_all_in_the_synced_state_and_a_change_stays_small(tmp_path, monkeypatch):
    n = 2_600
    study = Study([{"id": f"q{k}", "image": "missing.jpg", "question": "?", "answers": ["a"]} for k in range(n)],
                  store=tmp_path / "annotations.jsonl")
    rows = [{"case_id": f"q{k}", "reason": None, "note": f"n{k}", "flag": False, "token": None, "updated": "2026"}
            for k in range(n - 100)]
    study.store.path.write_text("".join(json.dumps(r) + "\n" for r in rows))  # annotated before
    board = FailureCaseBoard(study)
    msgs = synced(board)
    for k in range(n - 100, n):  # 100 more, from Python and the page
        if k % 2:
            board.annotate(f"q{k}", reason="other", note=f"n{k}")
        else:
            board.answer({"type": "annotate", "request": k, "case": f"q{k}", "reason": "other", "note": f"n{k}"})
    # what the page holds, and a notebook saved with widget state: the last synced values of both parts
    page: dict = {}
    for m in msgs:
        page.update(m["state"])
    shown = {**page["_notes"], **page["_notes_new"]}
    assert len(shown) == n and shown["q0"]["note"] == "n0" and shown[f"q{n - 1}"]["reason"] == "other"
    assert shown == board._all_notes() == study.store.read()
    folds = [m for m in msgs if "_notes" in m["state"]]
    assert 1 <= len(folds) <= 2  # the changes went out in batches: every note again only on a fold
    small = [m["bytes"] for m in msgs if "_notes" not in m["state"]]
    whole = len(json.dumps(shown))
    assert len(small) >= 90 and max(small) < whole / 20, (max(small), whole)


@pytest.mark.parametrize("message, error", [
    ("hello", "must be an object"),
    ({"type": "launch"}, "unknown message type 'launch'"),
    ({"type": "open", "case": "q1"}, "request must be an integer"),
    ({"type": "open", "request": True, "case": "q1"}, "request must be an integer"),
    ({"type": "open", "request": 1, "case": 7}, "no case 7"),
    ({"type": "open", "request": 1, "case": "nope"}, "no case 'nope'"),
    ({"type": "picture", "request": 1, "case": "q1", "size": "huge"}, "size must be"),
    ({"type": "annotate", "request": 1, "case": "q1", "reason": "made up"}, "not saved: unknown reason"),
    ({"type": "annotate", "request": 1, "case": "q1", "flag": "yes"}, "not saved: flag must be"),
    ({"type": "annotate", "request": 1, "case": "q1", "note": ["x"]}, "not saved: note must be"),
    ({"type": "annotate", "request": 1, "case": "q1", "token": 10**9}, "not saved"),
    ({"type": "annotate", "request": 1, "case": "q1"}, "not saved: nothing to annotate"),
    ({"type": "annotate", "request": 1, "case": "q1", "note": "x" * 20_001}, "not saved: the note is 20001"),
    ({"type": "maps", "request": 1, "record": "c9", "method": "tam", "start": 0, "stop": 1}, "unknown record"),
])
def test_hostile_messages_are_answered_with_errors(study, monkeypatch, message, error):
    board = FailureCaseBoard(study)
    board.annotate("q2", note="keep me")
    sent = wire(board, monkeypatch)
    reply, buffers = ask(board, sent, message)
    assert error in reply["error"] and buffers is None
    assert board.annotations.note.tolist() == ["keep me"]  # nothing saved is lost


def test_rows_and_annotations_cannot_be_overwritten_by_the_page(study):
    board = FailureCaseBoard(study)
    board.annotate("q1", note="kept")
    for name, value in (("_notes", {"q9": {}}), ("_notes_new", {}), ("_cases", [])):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            board.set_state({name: value})  # what a page's state update does
    assert board._all_notes()["q1"]["note"] == "kept" and len(board._cases) == 8
    board.refresh()
    assert board._notes["q1"]["note"] == "kept"


def test_a_read_only_board_refuses_annotations(tmp_path, monkeypatch):
    board = FailureCaseBoard(make_cases(tmp_path, 3))
    sent = wire(board, monkeypatch)
    reply, _ = ask(board, sent, {"type": "annotate", "request": 1, "case": "q1", "flag": True})
    assert "read-only" in reply["error"]


def test_a_new_process_restores_the_annotations(study, tmp_path):
    board = FailureCaseBoard(study)
    board.annotate("q1", reason="answer shifted by context", note="pink case", flag=True, token=13)
    board.annotate("q2", note="later")
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.widgets.board_study import make_study
        from tam_widgets.widgets.board import FailureCaseBoard
        board = FailureCaseBoard(make_study(__import__("pathlib").Path({str(tmp_path)!r}), n=8, cached=()))
        print(json.dumps({{k: [v["reason"], v["note"], v["flag"], v["token"]] for k, v in board._notes.items()}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "q1": ["answer shifted by context", "pink case", True, 13], "q2": [None, "later", False, None]}


def test_reasons_in_the_store_join_the_taxonomy(study):
    FailureCaseBoard(study, taxonomy=["blur", "other"]).annotate("q1", reason="blur")
    again = FailureCaseBoard(Study(study.case_list, store=study.store.path))
    assert "blur" in again.reasons  # a reason added in another session stays choosable


# -- display output and page --------------------------------------------------------------------------
def test_display_output_has_a_picture_and_a_summary(study):
    board = FailureCaseBoard(study)
    data, _ = board._repr_mimebundle_()
    assert data["text/plain"].startswith("FailureCaseBoard: 8 cases (2 failed, 1 correct, 5 not answered yet)")
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert png.size[0] > 400 and len(np.unique(np.asarray(png.convert("L")))) > 2
    board.open_case("q1")
    data, _ = board._repr_mimebundle_()
    assert "open: case q1: What is the man holding?" in data["text/plain"]
    shown = Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")
    assert shown.size != png.size  # the opened case's token map, not the list
    assert "image/png" not in FailureCaseBoard(study, snapshot=False)._repr_mimebundle_()[0]


def test_the_offline_page_holds_the_study_read_only(study, tmp_path):
    study.case_list[5].question = "</script><script>alert(1)</script>"
    board = FailureCaseBoard(study)
    board.annotate("q1", reason="missed object", note="<img src=x onerror=alert(1)>")
    path = board.to_html(tmp_path / "board.html")
    text = Path(path).read_text()
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<script>alert(1)" not in text and "<img src=x" not in text  # text travels escaped
    doc = json.loads(re.search(r'<script type="application/json" id="tam-doc-[0-9a-f]+">(.*?)</script>', text,
                               re.S).group(1))
    assert doc["view"] == "case_board" and doc["state"]["read_only"] is True
    assert [r["id"] for r in doc["records"]] == ["c0", "c1", "c2"]  # the cached records, none computed
    assert len(doc["state"]["_cases"]) == 8 and doc["state"]["_notes"]["q1"]["reason"] == "missed object"
    assert set(doc["state"]["_thumbs"]) == {f"q{k}" for k in range(8)} - {"q3"}  # q3's picture is unreadable


def test_an_executed_notebook_keeps_the_boards_picture(tmp_path, monkeypatch):
    import os

    from nbclient import NotebookClient

    from tam_widgets.widgets.snapshot import snapshot_png

    make_study(tmp_path / "s", n=6)
    cells = [
        f"import pathlib, sys\nsys.path.insert(0, {str(ROOT)!r})\nimport tam_widgets as tw\n"
        f"from tests.widgets.board_study import make_cases\nfrom tam_widgets.studies import Study\n"
        f"study = Study(make_cases(pathlib.Path({str(tmp_path / 's' / 'pictures')!r}), 6), "
        f"store=pathlib.Path({str(tmp_path / 's' / 'study' / 'annotations.jsonl')!r}))",
        "board = tw.FailureCaseBoard(study)\nboard",
        "opened = tw.FailureCaseBoard(study)\nopened.open_case('q1')\nopened",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    data = [[o for o in c.outputs if o.output_type in ("display_data", "execute_result")][0]["data"]
            for c in nb.cells[1:]]
    assert data[0]["text/plain"].startswith("FailureCaseBoard: 6 cases (2 failed, 1 correct, 3 not answered yet)")
    assert "open: case q1" in data[1]["text/plain"]
    pngs = [base64.b64decode(d["image/png"]) for d in data]
    listing = np.asarray(Image.open(io.BytesIO(pngs[0])).convert("L"))
    assert listing.std() > 10  # the list as a table, not a blank picture
    exp = Study(make_cases(tmp_path / "s" / "pictures", 6), store=tmp_path / "s" / "study" / "annotations.jsonl")
    exp = exp.explanation("q1")
    want = np.asarray(Image.open(io.BytesIO(snapshot_png(exp, int(exp.explained[0]), "tam"))).convert("RGB"), float)
    got = np.asarray(Image.open(io.BytesIO(pngs[1])).convert("RGB"), float)
    assert got.shape == want.shape and np.abs(got - want).max() <= 8  # the opened case's map, as the explorer draws
    nb.metadata.pop("widgets", None)  # as JupyterLab saves by default: nbconvert then shows the pictures
    nbformat.write(nb, tmp_path / "board.ipynb")
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(tmp_path / "board.ipynb")],
                   check=True, capture_output=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    html = (tmp_path / "board.html").read_text()
    shown = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', html)
    assert sorted(base64.b64decode(s) for s in shown) == sorted(pngs)


def test_exports_delegate_to_the_study(study, tmp_path):
    board = FailureCaseBoard(study)
    board.annotate("q1", reason="missed object", note="sofa")
    board.open_case("q1")
    assert len(board.figure().axes) == 2  # the opened case: its picture and its text
    assert board.export_figure(["q1", "q2"], tmp_path / "fig.png").stat().st_size > 1000
    assert "missed object" in board.export_annotations(tmp_path / "a.csv").read_text()


def test_precompute_fills_the_list(tmp_path):
    explainer = FakeExplainer()
    board = FailureCaseBoard(make_cases(tmp_path / "p", 5), store=tmp_path / "s" / "annotations.jsonl",
                             explainer=explainer)
    with pytest.warns(UserWarning, match="1 case"):
        counts = board.precompute(workers=1, progress=False, shard=(0, 1))
    assert counts == {"computed": 4, "cached": 0, "failed": 1}  # q3's picture is unreadable
    rows = {r["id"]: r for r in board._cases}
    assert rows["q0"]["prediction"] == "red" and rows["q0"]["cached"] and rows["q3"]["error"]


def test_two_boards_on_one_store_keep_each_others_cases(study):
    a, b = FailureCaseBoard(study), FailureCaseBoard(Study(study.case_list, store=study.store.path))
    a.annotate("q1", reason="other")
    b.annotate("q2", note="mine")
    a.annotate("q1", flag=True)
    b.refresh()
    assert sorted(b._notes) == ["q1", "q2"] and b._notes["q1"]["flag"] is True
    assert a.annotations.set_index("case_id").note.to_dict() == {"q1": "", "q2": "mine"}


def test_a_corrupt_store_line_is_reported_and_the_rest_loads(study):
    from tam_widgets.studies import AnnotationWarning

    FailureCaseBoard(study).annotate("q1", reason="other")
    with open(study.store.path, "a") as f:
        f.write('{"case_id": "q2", "flag": "yes"\n')
    before = study.store.path.read_bytes()
    with pytest.warns(AnnotationWarning, match=r"annotations.jsonl:2"):
        board = FailureCaseBoard(Study(study.case_list, store=study.store.path))
    assert list(board._notes) == ["q1"] and study.store.path.read_bytes() == before  # not rewritten


def test_a_video_case_shows_its_first_sampled_frame(tmp_path, monkeypatch):
    import cv2

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(30):
        writer.write(np.full((48, 64, 3), 5 * i, np.uint8))
    writer.release()
    case = {"id": "v", "video": str(video), "start": 1.0, "end": 2.5, "question": "What was opened?",
            "choices": ["The box.", "The laptop."], "answer": "The laptop.", "question_type": "Interaction"}
    board = FailureCaseBoard([case, {**case, "id": "gone", "video": str(tmp_path / "missing.mp4")}])
    assert board._cases[0]["video"] and board._cases[0]["answers"] == "The laptop."
    sent = wire(board, monkeypatch)
    reply, buffers = ask(board, sent, {"type": "picture", "request": 1, "case": "v", "size": "thumb"})
    frame = np.asarray(Image.open(io.BytesIO(buffers[0])).convert("L"), float)
    assert frame.shape == (48, 64) and 45 <= frame.mean() <= 60  # frame 10 of the clip (grey 50), start 1.0 s
    reply, buffers = ask(board, sent, {"type": "picture", "request": 2, "case": "gone", "size": "thumb"})
    assert "cannot read its video" in reply["error"]


def test_the_cli_writes_a_study_page(tmp_path, capsys):
    from tam_widgets.cli import main

    images = tmp_path / "val2014"
    images.mkdir()
    Image.fromarray(np.full((40, 60, 3), 120, np.uint8)).save(images / "COCO_val2014_000000000042.jpg")
    questions = {"questions": [{"image_id": 42, "question": "What animal is this?", "question_id": 420}]}
    answers = [{"answer_id": k + 1, "answer": "cat", "raw_answer": "Cat", "answer_confidence": "yes"}
               for k in range(10)]
    annotations = {"annotations": [{"question_id": 420, "image_id": 42, "question_type": "what animal",
                                    "answer_type": "other", "answers": answers}]}
    (tmp_path / "q.json").write_text(json.dumps(questions))
    (tmp_path / "a.json").write_text(json.dumps(annotations))
    store = tmp_path / "study" / "annotations.jsonl"
    args = ["board", "--dataset", "okvqa", "--questions", str(tmp_path / "q.json"), "--annotations",
            str(tmp_path / "a.json"), "--images", str(images), "--store", str(store), "--out", str(tmp_path / "s.html")]
    assert main(args) == 2 and "is not a file" in capsys.readouterr().err  # a typo'd store is not a new study
    tw.studies.okvqa(None, tmp_path / "q.json", tmp_path / "a.json", images, store=store).annotate(
        "420", reason="other", note="<script>x</script>")
    assert main(args) == 0
    assert "(1 cases, 0 failed, 1 annotated)" in capsys.readouterr().out
    text = (tmp_path / "s.html").read_text()
    assert '"view":"case_board"' in text and "<script>x</script>" not in text
    assert main(["board", "--dataset", "star", "--store", str(store), "--out", str(tmp_path / "t.html")]) == 2
    assert "--star-json, --videos" in capsys.readouterr().err
