"""tw.compare_runs: evaluation runs of several models side by side, on result files of the real format."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tam_widgets as tw
from tam_widgets.compare_runs import RunComparisonError
from tam_widgets.evaluate import Evaluation, merge, prepare, record_name, run_settings, settings_id
from tam_widgets.testing.records import synthetic_record

ROOT = Path(__file__).resolve().parents[1]


def row(sid: str, caption: str, obj: dict | None = None, func: dict | None = None, **more) -> dict:
    """A result row as ``score_sample`` writes it: ``obj`` / ``func`` are ``[(word, iou), ...]``."""
    obj, func = list((obj or {}).items()), list((func or {}).items())
    return {
        "id": sid,
        "method": "tam",
        "caption": caption,
        "prompt": "Describe the image.",
        "obj_iou": [v for _, v in obj],
        "func_iou": [v for _, v in func],
        "obj_words": [w for w, _ in obj],
        "func_words": [w for w, _ in func],
        "skipped": False,
        "meteor": 0.5,
        "rouge_l": 0.25,
        **more,
    }


def write_run(
    out: Path,
    rows: list[dict],
    *,
    model: str = "org/model-a",
    dataset: str = "coco",
    size: int | None = None,
    compat: str = "default",
    shards: int = 1,
    finish: bool = True,
) -> Path:
    """A run folder written by evaluate's own writer (settings, shard journals, .done markers, summary)."""
    settings = run_settings(
        model=model,
        method="tam",
        compat=compat,
        dataset=dataset,
        dataset_size=len(rows) if size is None else size,
        shards=shards,
        max_new_tokens=16,
    )
    prepare(out, settings)
    for i in range(shards):
        ev = Evaluation(out, (i, shards), settings_id(settings))
        with ev.lock():
            for r in rows[i::shards]:
                ev.append(r)
            if finish:
                ev.mark_complete()
    merge(out, shards)
    return out


# Model A says "dog" in 3 captions, model B in 2; "the" is a function word of both.
ROWS_A = [
    row("1", "The dog.", {"dog": 0.5}, {"the": 0.9}),
    row("2", "A dog and the cat.", {"dog": 0.7, "cat": 0.2}, {"a": 0.6, "the": 0.7}),
    row("3", "The dog, the dog.", {"dog": 0.3, "dog ": 0.1}, {"the": 0.5, "The": 0.3}),
    row("4", "Nothing.", skipped=True),
]
ROWS_B = [
    row("1", "A Dog.", {"Dog": 0.9}, {"a": 0.4}),
    row("2", "The cat.", {"cat": 0.6}, {"the": 0.8}),
    row("3", "The dog.", {"dog": 0.8}, {"the": 0.6}),
    row("4", "A cat.", {"cat": 0.4}, {"a": 0.2}),
]


@pytest.fixture
def two_runs(tmp_path):
    a = write_run(tmp_path / "qwen", ROWS_A, model="Qwen/Qwen2-VL-2B-Instruct", shards=2)
    b = write_run(tmp_path / "llava", ROWS_B, model="llava-hf/llava-1.5-7b-hf")
    return a, b


def test_table_holds_what_evaluate_reports(two_runs):
    a, b = two_runs
    cmp = tw.compare_runs([a, b], min_count=2)
    assert cmp.labels == ["Qwen2-VL-2B-Instruct", "llava-1.5-7b-hf"]
    t = cmp.table
    assert list(t.index) == cmp.labels
    assert list(t.columns[:5]) == ["Obj-IoU", "Func-IoU", "F1-IoU", "METEOR", "ROUGE-L"]
    for label, path in zip(cmp.labels, two_runs):
        summary = json.loads((path / "summary.json").read_text())
        for head, key in [("Obj-IoU", "obj_iou"), ("Func-IoU", "func_iou"), ("F1-IoU", "f1_iou"), ("METEOR", "meteor")]:
            assert t.loc[label, head] == pytest.approx(summary[key])
        assert t.loc[label, "samples"] == summary["n_samples"] == 4
        assert t.loc[label, "object_words"] == summary["n_obj_words"]
    # pooled over words, not captions: model A's Obj-IoU = mean(0.5, 0.7, 0.2, 0.3, 0.1)
    assert t.loc["Qwen2-VL-2B-Instruct", "Obj-IoU"] == pytest.approx(1.8 / 5)
    labelled = tw.compare_runs([a, b], labels=["Q", "L"])
    assert labelled.labels == ["Q", "L"] and list(labelled.table.index) == ["Q", "L"]


def test_per_word_means_by_hand(two_runs):
    cmp = tw.compare_runs(list(two_runs), labels=["A", "B"], min_count=2)
    w = cmp.words.set_index("word")
    # "dog" (case and spaces normalised): A has entries 0.5 | 0.7 | 0.3, 0.1 in 3 captions -> mean of the 4 entries
    assert w.loc["dog", "kind"] == "object"
    assert w.loc["dog", "A"] == pytest.approx((0.5 + 0.7 + 0.3 + 0.1) / 4) and w.loc["dog", "A n"] == 3
    assert w.loc["dog", "B"] == pytest.approx((0.9 + 0.8) / 2) and w.loc["dog", "B n"] == 2
    # "cat": A said it in one caption only (< min_count) -> no mean for A, but its count shows
    assert math.isnan(w.loc["cat", "A"]) and w.loc["cat", "A n"] == 1
    assert w.loc["cat", "B"] == pytest.approx(0.5) and w.loc["cat", "B n"] == 2
    # function words: "the" for A = 0.9 | 0.7 | 0.5, 0.3 (3 captions)
    assert w.loc["the", "kind"] == "function" and w.loc["the", "A"] == pytest.approx(2.4 / 4)
    assert w.loc["a", "B"] == pytest.approx(0.3) and math.isnan(w.loc["a", "A"])
    # object words first; the skipped sample counts nowhere
    assert list(cmp.words["kind"]) == ["object", "object", "function", "function"]
    # a word is listed when some model reaches min_count
    assert set(tw.compare_runs(list(two_runs), min_count=3).words["word"]) == {"dog", "the"}
    assert tw.compare_runs(list(two_runs), min_count=5).words.empty


def test_best_worst_and_samples(two_runs):
    cmp = tw.compare_runs(list(two_runs), labels=["A", "B"], min_count=2)
    best = cmp.best("B", 2)
    assert list(best["word"]) == ["dog", "the"] and list(best.columns) == ["word", "kind", "iou", "captions"]
    assert list(cmp.worst("B", 1)["word"]) == ["a"]
    assert list(cmp.best(1, 5, kind="object")["word"]) == ["dog", "cat"]
    assert list(cmp.best("A", 5)["word"]) == ["the", "dog"]  # "cat" and "a" are below min_count for A
    s = cmp.samples("Dog")
    assert list(zip(s["model"], s["id"])) == [("A", "2"), ("A", "1"), ("A", "3"), ("B", "1"), ("B", "3")]
    assert s.loc[2, "iou"] == pytest.approx(0.2)  # sample 3 said "dog" twice: the mean of its entries
    assert s.loc[3, "caption"] == "A Dog." and not s["record"].any()
    with pytest.raises(KeyError, match="no model scored the word 'dgo'.*close: dog"):
        cmp.samples("dgo")
    with pytest.raises(KeyError, match="no run labelled 'C'; the labels are"):
        cmp.best("C")
    with pytest.raises(ValueError, match="kind must be"):
        cmp.worst("A", kind="noun")
    with pytest.raises(ValueError, match="n must be a whole number"):
        cmp.best("A", 0)


def test_refusals(tmp_path, two_runs):
    a, b = two_runs
    with pytest.raises(RunComparisonError, match="is not a directory"):
        tw.compare_runs([a, tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunComparisonError, match="is not an evaluation run: it has no run.json"):
        tw.compare_runs([a, tmp_path / "empty"])
    other_data = write_run(tmp_path / "grandf", ROWS_B, dataset="grandf", model="x/other")
    with pytest.raises(RunComparisonError, match="dataset: 'coco' in .*, 'grandf' in"):
        tw.compare_runs([a, other_data])
    other_rule = write_run(tmp_path / "official", ROWS_B, compat="official", model="x/other")
    with pytest.raises(RunComparisonError, match="compat: 'default' in .*'official'.*same --dataset/--root/--compat"):
        tw.compare_runs([a, other_rule])
    unfinished = write_run(tmp_path / "half", ROWS_B, shards=2, finish=False, model="x/half")
    with pytest.raises(RunComparisonError, match=r"not finished: shard\(s\) 0/2, 1/2 .*it resumes"):
        tw.compare_runs([a, unfinished])
    lost = write_run(tmp_path / "lost", ROWS_B, shards=2, model="x/lost")
    (lost / "results-1-of-2.jsonl").unlink()
    with pytest.raises(RunComparisonError, match=r"missing result file\(s\) results-1-of-2.jsonl"):
        tw.compare_runs([a, lost])
    damaged = write_run(tmp_path / "damaged", ROWS_B, model="x/damaged")
    (damaged / "run.json").write_text("{not json")
    with pytest.raises(RunComparisonError, match="cannot read its settings"):
        tw.compare_runs([damaged])
    with pytest.raises(RunComparisonError, match="given twice"):
        tw.compare_runs([a, str(a)])
    with pytest.raises(TypeError, match="list of run folders"):
        tw.compare_runs(str(a))
    with pytest.raises(TypeError, match="folder path"):
        tw.compare_runs([a, 3])
    with pytest.raises(ValueError, match="no runs given"):
        tw.compare_runs([])
    with pytest.raises(ValueError, match="min_count must be a whole number >= 1"):
        tw.compare_runs([a], min_count=0)
    with pytest.raises(ValueError, match="labels must be a list of 2 names"):
        tw.compare_runs([a, b], labels=["one"])
    with pytest.raises(ValueError, match="labels must be distinct"):
        tw.compare_runs([a, b], labels=["x", "x"])
    with pytest.raises(ValueError, match=r"labels \['kind'\] clash with the columns of .words"):
        tw.compare_runs([a, b], labels=["kind", "x"])
    with pytest.raises(ValueError, match=r"labels \['x n'\] clash"):
        tw.compare_runs([a, b], labels=["x", "x n"])
    edited = write_run(tmp_path / "edited", [row("1", "A dog.", {"dog": 0.5})], model="x/edited")
    text = (edited / "results-0-of-1.jsonl").read_text().replace("0.5", '"high"')
    (edited / "results-0-of-1.jsonl").write_text(text)
    with pytest.raises(RunComparisonError, match="its result rows cannot be pooled .*damaged"):
        tw.compare_runs([edited])


def test_conflicting_rows_are_refused(tmp_path):
    out = write_run(tmp_path / "dup", ROWS_B, shards=2)
    with open(out / "results-1-of-2.jsonl") as f:
        first = f.readline()
    with open(out / "results-0-of-2.jsonl", "a") as f:
        f.write(first.replace('"cat"', '"bird"'))
    with pytest.raises(RunComparisonError, match="sample id '2' has two different results"):
        tw.compare_runs([out])


WRITER = """
import sys, time
from pathlib import Path
from tam_widgets.evaluate import Evaluation
with Evaluation(Path(sys.argv[1]), (0, 1)).lock():
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_run_being_written_is_refused(tmp_path):
    out = write_run(tmp_path / "busy", ROWS_B)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RunComparisonError, match="still being written .*results-0-of-1.lock"):
            tw.compare_runs([out])
    finally:
        proc.kill()
        proc.wait()
    assert tw.compare_runs([out]).table.loc["model-a", "samples"] == 4


def test_old_rows_without_words_still_give_the_table(tmp_path, two_runs):
    old = [{k: v for k, v in r.items() if k not in ("obj_words", "func_words")} for r in ROWS_B]
    path = write_run(tmp_path / "old", old, model="x/old")
    cmp = tw.compare_runs([two_runs[0], path], labels=["A", "old"], min_count=1)
    assert cmp.table.loc["old", "Obj-IoU"] == pytest.approx(0.675)
    assert (cmp.words["old n"] == 0).all() and "dog" in set(cmp.words["word"])
    assert any("old: 4 result row(s)" in n and "--force-new" in n for n in cmp.notes)
    assert "do not name their words" in cmp._repr_html_() and "note:" in repr(cmp)
    damaged = [dict(r, obj_words=r["obj_words"] + ["extra"]) if r["id"] == "1" else r for r in ROWS_B]
    path = write_run(tmp_path / "damaged", damaged, model="x/damaged")
    cmp = tw.compare_runs([path], labels=["D"], min_count=1)
    assert cmp.notes == [f"D: 1 result row(s) in {path} have damaged word lists; left out"]
    assert cmp.words.set_index("word").loc["dog", "D n"] == 1  # sample 3 only: sample 1's words are left out


def test_different_sample_sets_are_noted(tmp_path, two_runs):
    part = write_run(tmp_path / "part", ROWS_B[:2], size=4, model="x/part")
    cmp = tw.compare_runs([two_runs[0], part], labels=["A", "P"])
    assert cmp.table.loc["P", "samples"] == 2
    assert any("different samples (A: 4, P: 2; 2 in common)" in n for n in cmp.notes)


def test_html_escapes_everything_and_lists_samples(tmp_path):
    evil = "<script>alert(1)</script>"
    rows = [row(f"<b>{k}</b>", f"{evil} here", {evil: 0.5}, {"&amp;": 0.25}) for k in range(3)]
    a = write_run(tmp_path / "evil", rows, model="x/<img src=x onerror=alert(2)>")
    b = write_run(tmp_path / "plain", rows, model="x/plain")
    cmp = tw.compare_runs([a, b], min_count=2)
    page = cmp._repr_html_()
    assert "<script" not in page and "<img" not in page and "<b>0" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&amp;amp;" in page  # the word "&amp;" shown as typed
    # each word is a <details> listing each model's samples, best first, with their IoU in percent
    details = re.findall(r"<details><summary>(.*?)</summary><ul>(.*?)</ul></details>", page)
    assert [d[0] for d in details] == ["&lt;script&gt;alert(1)&lt;/script&gt;", "&amp;amp;"]
    assert (
        "<li>plain: &lt;b&gt;0&lt;/b&gt; (50), &lt;b&gt;1&lt;/b&gt; (50), &lt;b&gt;2&lt;/b&gt; (50)</li>"
        in details[0][1]
    )
    assert "onerror=" not in re.sub(r"&lt;.*?&gt;", "", page)
    text = repr(cmp)
    assert "Obj-IoU" in text and "50.0" in text and "<script>" in text  # plain text is not HTML


def test_figure_draws_a_bar_per_word_and_model(two_runs, tmp_path):
    cmp = tw.compare_runs(list(two_runs), labels=["A", "B"], min_count=2)
    fig = cmp.figure()
    axes = fig.get_axes()
    assert [ax.get_ylabel() for ax in axes] == ["mean Obj-IoU", "mean Func-IoU"]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["dog", "cat"]
    heights = [p.get_height() for p in axes[0].patches]  # A's bars, then B's
    assert (
        heights[:1] == [pytest.approx(0.4)]
        and math.isnan(heights[1])
        and heights[2:]
        == [
            pytest.approx(0.85),
            pytest.approx(0.5),
        ]
    )
    for name in ("words.png", "words.pdf"):
        fig.savefig(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000
    one = cmp.figure(["the"], kind="function")
    assert len(one.get_axes()) == 1 and len(one.get_axes()[0].patches) == 2
    with pytest.raises(KeyError, match="not in .words"):
        cmp.figure(["bird"])
    with pytest.raises(ValueError, match="no word to draw.*lower min_count"):
        tw.compare_runs(list(two_runs), min_count=9).figure()


def test_records_of_a_sample(tmp_path):
    rows = [row("1", "A cat.", {"cat": 0.5}, {"a": 0.5}, record=record_name("1")), row("2", "A cat.")]
    with_records = write_run(tmp_path / "with", rows, model="x/with")
    (with_records / "records").mkdir()
    synthetic_record().save(with_records / record_name("1"))
    cmp = tw.compare_runs([with_records])
    [exp] = cmp.records("1")
    assert exp.answer == synthetic_record().answer
    assert cmp.samples("cat")["record"].tolist() == [True]
    plain = [{k: v for k, v in r.items() if k != "record"} for r in rows]
    without = write_run(tmp_path / "without", plain, model="x/without")
    both = tw.compare_runs([with_records, without])
    with pytest.raises(RunComparisonError, match="without.*did not store the record of sample '1'.*--save-records"):
        both.records("1")
    with pytest.raises(KeyError, match="has no result for sample '9'"):
        cmp.records("9")
    with pytest.raises(TypeError, match="sample_id must be a str"):
        cmp.records(1)
    (with_records / record_name("1")).write_bytes(b"garbage")
    with pytest.raises(RunComparisonError, match="cannot read the record of sample '1'"):
        cmp.records("1")


def test_end_to_end_with_evaluate_and_tiny_models(tmp_path):
    """Two real runs of `evaluate` (tiny Qwen2-VL forced to two captions), records stored, then compared."""
    from tam_widgets.evaluate import open_dataset, run
    from tam_widgets.testing import tiny_model
    from tam_widgets.testing.datasets import coco_formatted
    from tests.test_evaluate import caption_kwargs

    ds = open_dataset("coco", coco_formatted(tmp_path / "coco"))
    ex = tw.load(tiny_model("qwen2_vl"), max_new_tokens=8)
    outs = []
    for name, caption in [("one", "A cat on a table."), ("two", "The cat and a cup.")]:
        run(ex, ds, tmp_path / name, progress=False, save_records=True, **caption_kwargs(ex, caption))
        outs.append(tmp_path / name)
    cmp = tw.compare_runs(outs, labels=["one", "two"], min_count=1)
    w = cmp.words.set_index("word")
    assert w.loc["cat", "one n"] == 1 and w.loc["cat", "two n"] == 1  # the cat photo only has a cat in its mask
    assert w.loc["a", "one n"] == 3 and w.loc["a", "two n"] == 3 and w.loc["the", "two n"] == 3
    assert w.loc["cup", "two n"] == 1 and w.loc["cup", "one n"] == 0
    assert "one: object words only 'cat' " in repr(cmp) and "two: object words best " in repr(cmp)
    exps = cmp.records(cmp.samples("cat")["id"][0])
    assert [e.answer for e in exps] == ["A cat on a table.", "The cat and a cup."]


def test_to_html_is_one_offline_page_without_scripts(tmp_path, browser):
    evil = "<script>alert(1)</script>"
    rows = [row(str(k), f"{evil} here", {evil: 0.5, "dog": 0.25}, {"the": 0.75}) for k in range(3)]
    a = write_run(tmp_path / "a", rows, model="x/<b>a</b>")
    b = write_run(tmp_path / "b", rows, model="x/b")
    cmp = tw.compare_runs([a, b], min_count=2)
    path = cmp.to_html(tmp_path / "runs.html")
    text = path.read_text()
    assert text == cmp.to_html() and "<script" not in text and "<b>a</b>" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text and "script-src 'none'" in text
    assert text.count('src="data:image/png;base64,') == 1 and ".open(id)" not in text
    assert "data:image/png" not in cmp.to_html(figure=False)
    with pytest.raises(TypeError, match="path must be a file path"):
        cmp.to_html(3)
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(path.as_uri())
    assert page.locator("details").count() == 3 and page.locator("img").evaluate("i => i.naturalWidth") > 300
    assert page.locator("table").first.inner_text().count("\n") == 2  # header + 2 models
    page.locator("summary", has_text=evil).click()
    assert page.locator("details[open] li").count() == 2
    # the page's own style applies (allowed by its hash in the CSP)
    assert page.evaluate("getComputedStyle(document.querySelector('.tam-runs table')).borderCollapse") == "collapse"
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages
    page.close()


def test_cli_compare_runs(two_runs, tmp_path, capsys):
    from tam_widgets.cli import main

    a, b = two_runs
    out = tmp_path / "out"
    argv = ["compare-runs", str(a), str(b), "--labels", "A", "B", "--min-count", "2"]
    assert (
        main([*argv, "--html", str(out / "r.html"), "--figure", str(out / "w.png"), "--words", str(out / "w.csv")]) == 0
    )
    printed = capsys.readouterr().out
    assert printed.splitlines()[1].split() == ["model", "Obj-IoU", "Func-IoU", "F1-IoU", "METEOR", "ROUGE-L", "samples"]
    assert (
        printed.splitlines()[2].split()[:2] == ["A", "36.0"]
        and "B: object words best 'dog' 85.0, worst 'cat' 50.0" in printed
    )
    assert (out / "r.html").exists() and (out / "w.png").stat().st_size > 1000
    assert (out / "w.csv").read_text().splitlines()[0] == "word,kind,A,A n,B,B n"
    assert main(["compare-runs", str(a), str(tmp_path / "nope")]) == 2
    assert "error: " in capsys.readouterr().err


def test_notebook_display_output_is_static_html_and_text(two_runs):
    """What a notebook stores for `cmp` in a cell: escaped HTML (no script, works without a kernel) and text."""
    from IPython.core.interactiveshell import InteractiveShell

    cmp = tw.compare_runs(list(two_runs), labels=["A", "B"], min_count=2)
    data, _ = InteractiveShell.instance().display_formatter.format(cmp)
    assert set(data) == {"text/html", "text/plain"}
    assert "<script" not in data["text/html"] and data["text/html"].count("<details>") == len(cmp.words)
    assert data["text/plain"] == repr(cmp) and data["text/plain"].startswith("RunComparison of 2 runs")
