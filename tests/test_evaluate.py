"""End-to-end evaluation on a synthetic COCO-style set with a tiny model: single and 2-process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tam_widgets as tw
from tam_widgets.evaluate import (
    EvaluationError,
    EvaluationWarning,
    format_table,
    merge,
    open_dataset,
    parse_shard,
    run,
    vqa_accuracy,
)
from tam_widgets.testing import tiny_model
from tam_widgets.testing.datasets import coco_formatted

ROOT = Path(__file__).resolve().parents[1]


def same(a: dict, b: dict) -> bool:
    """Equal pooled numbers (the recorded settings may differ, e.g. in the shard count)."""
    a, b = ({k: v for k, v in x.items() if k != "settings"} for x in (a, b))
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    return coco_formatted(tmp_path_factory.mktemp("coco"))


@pytest.fixture(scope="module")
def explainer():
    return tw.load(tiny_model("qwen2_vl"), max_new_tokens=8)


class ForceCaption:
    """A logits processor that makes the tiny random model say a fixed caption, then stop."""

    def __init__(self, tokenizer, caption: str = "A cat on a table."):
        self.ids = tokenizer(caption, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        self.start = self.prev = None

    def __call__(self, input_ids, scores):
        n = input_ids.shape[1]
        if self.prev is None or n != self.prev + 1:
            self.start = n  # a new generation (each step adds exactly one token)
        self.prev = n
        step = min(n - self.start, len(self.ids) - 1)
        forced = torch.full_like(scores, float("-inf"))
        forced[:, self.ids[step]] = 0
        return forced


def caption_kwargs(explainer, caption: str = "A cat on a table."):
    processor = ForceCaption(explainer.adapter.tokenizer, caption)
    return {"generation": {"logits_processor": [processor]}, "max_new_tokens": 12}


@pytest.mark.parametrize("compat", ["default", "official"])
def test_single_process_resume_and_shards_agree(coco, explainer, tmp_path, compat):
    ds = open_dataset("coco", coco)
    ex = explainer if compat == "default" else tw.load(tiny_model("qwen2_vl"), max_new_tokens=8, compat="reference")
    kw = caption_kwargs(ex)
    single = run(ex, ds, tmp_path / "one", compat=compat, progress=False, **kw)
    assert single["n_samples"] == 3
    # "A cat on a table.": the cat is scored on the cat photo only (absent from the other masks;
    # "table" is not a COCO class by itself), the two "a" are function words in every caption.
    assert single["n_obj_words"] == 1 and single["n_func_words"] == 6
    for key in ("obj_iou", "func_iou", "f1_iou"):
        assert 0 <= single[key] <= 1
    assert 0 < single["meteor"] <= 1 and 0 < single["rouge_l"] <= 1
    rows = [json.loads(r) for r in (tmp_path / "one" / "results-0-of-1.jsonl").read_text().splitlines()]
    assert [r["caption"] for r in rows] == ["A cat on a table."] * 3
    # A rerun skips finished samples (resume) and gives the same summary.
    assert same(run(ex, ds, tmp_path / "one", compat=compat, progress=False, **kw), single)
    assert len((tmp_path / "one" / "results-0-of-1.jsonl").read_text().splitlines()) == 3
    # Two shards, run one after the other, merge into exactly the single-process numbers.
    assert run(ex, ds, tmp_path / "two", compat=compat, shard=(0, 2), progress=False, **kw) is None
    both = run(ex, ds, tmp_path / "two", compat=compat, shard=(1, 2), progress=False, **kw)
    assert same(both, single)
    assert both["settings"]["shards"] == 2 and single["settings"]["shards"] == 1
    assert "| Obj-IoU |" in format_table(single).splitlines()[0].replace(" method", "")


def test_resume_after_a_killed_run(coco, explainer, tmp_path):
    ds = open_dataset("coco", coco)
    out = tmp_path / "run"
    first = run(explainer, ds, out, max_new_tokens=8, progress=False, limit=1)
    assert first["n_samples"] == 1 and first["n_left_out"] == 2
    assert "\n1 sample\n" in format_table(first) and "2 samples left out by --limit" in format_table(first)
    path = out / "results-0-of-1.jsonl"
    with open(path, "a") as f:
        f.write('{"id": "2", "capt')  # a half-written line, as a kill leaves it
    with pytest.warns(EvaluationWarning, match=r"results-0-of-1\.jsonl:2: cut off a half-written last line"):
        summary = run(explainer, ds, out, max_new_tokens=8, progress=False)
    assert summary["n_samples"] == 3 and summary["n_left_out"] == 0
    assert [json.loads(r)["id"] for r in path.read_text().splitlines()] == ["1", "2", "3"]


WORKER = """
import sys
import tam_widgets as tw
from tam_widgets.evaluate import open_dataset, parse_shard, run
from tests.test_evaluate import caption_kwargs

model, root, out = sys.argv[1:4]
explainer = tw.load(model, max_new_tokens=8)
run(explainer, open_dataset("coco", root), out, shard=parse_shard(None), progress=False, wait_for_shards=120,
    **caption_kwargs(explainer))
"""


def test_two_processes_under_torchrun_match_one(coco, explainer, tmp_path):
    out = tmp_path / "dist"
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    model = tiny_model("qwen2_vl")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        str(worker),
        str(model),
        str(coco),
        str(out),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.glob("results-*.jsonl")) == ["results-0-of-2.jsonl", "results-1-of-2.jsonl"]
    single = run(explainer, open_dataset("coco", coco), tmp_path / "ref", progress=False, **caption_kwargs(explainer))
    assert single["n_obj_words"] == 1
    assert same(json.loads((out / "summary.json").read_text()), single)
    assert same(merge(out, 2), single)


def cli_args(root, out, *more):
    model = str(tiny_model("qwen2_vl"))
    return ["evaluate", "--model", model, "--dataset", "coco", "--root", str(root), "--out", str(out), *more] + [
        "--max-new-tokens",
        "6",
    ]


def test_cli_evaluate(coco, tmp_path, capsys):
    from tam_widgets.cli import main

    out = tmp_path / "cli"
    assert main(cli_args(coco, out, "--shard", "0/2")) == 0
    assert "shard 0/2 done" in capsys.readouterr().out
    assert main(cli_args(coco, out, "--shard", "1/2")) == 0
    table = capsys.readouterr().out
    assert "| Obj-IoU | Func-IoU | F1-IoU | METEOR | ROUGE-L |" in table and "tam (default)" in table
    assert json.loads((out / "summary.json").read_text())["n_samples"] == 3
    # A bad line is reported on the command line as file:line, and skipped.
    path = out / "results-0-of-2.jsonl"
    with open(path, "a") as f:
        f.write("garbage\n")
    n = len(path.read_text().splitlines())
    assert main(cli_args(coco, out, "--shard", "0/2")) == 0
    err = capsys.readouterr().err
    assert err.count(f"warning: {path}:{n}: not JSON (Expecting value); line skipped\n") == 1


def test_cli_checks_everything_before_loading_the_model(coco, explainer, tmp_path, capsys, monkeypatch):
    from tam_widgets import explain
    from tam_widgets.cli import main

    out = tmp_path / "run"
    run(explainer, open_dataset("coco", coco), out, progress=False, max_new_tokens=6, limit=1)
    monkeypatch.setattr(explain, "load", lambda *a, **k: pytest.fail("the model was loaded before the checks"))
    cases = [
        (cli_args(coco, out, "--limit", "-1"), "error: --limit must be a whole number >= 1"),
        (cli_args(coco, out, "--method", "magic"), "error: unknown method 'magic'"),
        (cli_args(tmp_path / "nope", out), "error: COCO root not found"),
        (cli_args(coco, out, "--method", "rollout"), "method: 'tam' there, 'rollout' now"),
        (cli_args(coco, out, "--shard", "0/2"), "shards: 1 there, 2 now"),
    ]
    for args, message in cases:
        assert main(args) == 2, message
        err = capsys.readouterr().err
        assert message in err
        if " there, " in message:  # a settings conflict says the way out
            assert "--force-new" in err
    assert not (out / "old").exists() and len(list(out.glob("old-*"))) == 0


def test_cli_force_new(coco, explainer, tmp_path, capsys):
    from tam_widgets.cli import main

    out = tmp_path / "run"
    run(explainer, open_dataset("coco", coco), out, progress=False, max_new_tokens=6, limit=1)
    before = (out / "results-0-of-1.jsonl").read_bytes()
    assert main(cli_args(coco, out, "--method", "rollout", "--force-new")) == 0
    captured = capsys.readouterr()
    (old,) = out.glob("old-*")
    assert f"warning: started over in {out}: the earlier results were moved to {old}" in captured.err
    assert (old / "results-0-of-1.jsonl").read_bytes() == before
    assert json.loads((out / "summary.json").read_text())["settings"]["method"] == "rollout"


def test_cli_help_lists_each_dataset_layout(capsys):
    from tam_widgets.cli import main
    from tam_widgets.datasets import OKVQA, STAR, CocoCaption, GranDf, OpenPSG

    with pytest.raises(SystemExit) as stop:
        main(["evaluate", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for name, cls in [("coco", CocoCaption), ("grandf", GranDf), ("openpsg", OpenPSG), ("okvqa", OKVQA),
                      ("star", STAR)]:  # fmt: skip
        assert cls.LAYOUT and f"{name}:\n{cls.LAYOUT}" in text
    assert "--force-new" in text and "seg_label/<id:012d>.png" in text and "Charades_v1_480" in text


def test_helpers():
    assert parse_shard("1/4") == (1, 4)
    with pytest.raises(ValueError, match="i/n"):
        parse_shard("1-4")
    with pytest.raises(ValueError, match="0 <= i < n"):
        parse_shard("4/4")
    # the official VQA accuracy: the humans disagree, so "Red." is normalised to "red"; then the mean over the four
    # leave-one-out subsets: 2 other "red" (2/3) when one "red" is left out (three times), 3 (1.0) without "blue"
    assert vqa_accuracy("Red.", ["red", "red", "blue", "red"]) == pytest.approx((3 * 2 / 3 + 1) / 4)
    assert vqa_accuracy("green", ["red"]) == 0.0
    assert vqa_accuracy("Yes", ["yes"] * 10) == 0.0  # all agree: nothing is normalised (the official rule)
    assert vqa_accuracy("two", ["2"] * 3 + ["3"] * 7) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="unknown dataset"):
        open_dataset("imagenet", ".")


@pytest.mark.parametrize("method", ["feature_surgery", "rollout"])
def test_baseline_methods_from_the_registry(coco, explainer, tmp_path, method):
    summary = run(
        explainer,
        open_dataset("coco", coco),
        tmp_path / method,
        method=method,
        progress=False,
        **caption_kwargs(explainer),
    )
    assert summary["n_obj_words"] == 1 and summary["n_func_words"] == 6
    assert 0 <= summary["obj_iou"] <= 1 and 0 <= summary["func_iou"] <= 1


def test_unknown_method(coco, explainer, tmp_path):
    with pytest.raises(ValueError, match="unknown method 'magic'.*layercam"):
        run(explainer, open_dataset("coco", coco), tmp_path / "x", method="magic", progress=False)


def strict_json(text: str):
    """Parse JSON refusing NaN / Infinity (what a strict reader does)."""

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_settings_recorded_and_a_resume_with_other_settings_refused(coco, explainer, tmp_path):
    ds, out = open_dataset("coco", coco), tmp_path / "run"
    run(explainer, ds, out, progress=False, limit=1, **caption_kwargs(explainer))
    record = strict_json((out / "run.json").read_text())
    settings = record["settings"]
    assert settings["method"] == "tam" and settings["compat"] == "default" and settings["dataset"] == "coco"
    assert settings["model"] == explainer.model_id and settings["max_new_tokens"] == 12 and settings["shards"] == 1
    assert settings["dataset_size"] == 3 and settings["version"] == tw.__version__
    assert settings["generation"]["logits_processor"] == ["<tests.test_evaluate.ForceCaption>"]
    (row,) = rows_of(out / "results-0-of-1.jsonl")
    assert row["method"] == "tam" and row["settings"] == record["settings_id"]
    before = (out / "results-0-of-1.jsonl").read_bytes()
    # Another method (or max_new_tokens) into the same folder: refused, naming the differing keys.
    with pytest.raises(EvaluationError, match=r"method: 'tam' there, 'rollout' now.*--force-new.*old-"):
        run(explainer, ds, out, method="rollout", progress=False, **caption_kwargs(explainer))
    with pytest.raises(EvaluationError, match=r"max_new_tokens: 12 there, 8 now"):
        run(explainer, ds, out, progress=False, max_new_tokens=8)
    assert (out / "results-0-of-1.jsonl").read_bytes() == before  # nothing appended, nothing lost
    # force_new starts over and keeps the old results, moved aside.
    with pytest.warns(EvaluationWarning, match="moved to"):
        summary = run(explainer, ds, out, method="rollout", progress=False, force_new=True, **caption_kwargs(explainer))
    (old,) = out.glob("old-*")
    assert (old / "results-0-of-1.jsonl").read_bytes() == before
    assert strict_json((old / "run.json").read_text())["settings"]["method"] == "tam"
    assert summary["settings"]["method"] == "rollout" and summary["n_samples"] == 3
    assert {r["method"] for r in rows_of(out / "results-0-of-1.jsonl")} == {"rollout"}


def test_a_folder_of_an_older_version_is_not_pooled(coco, explainer, tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / "results-0-of-1.jsonl").write_text('{"id": "1", "caption": "x", "obj_iou": [], "func_iou": []}\n')
    with pytest.raises(EvaluationError, match=r"results-0-of-1\.jsonl\) but no run\.json.*--force-new"):
        run(explainer, open_dataset("coco", coco), out, progress=False)


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from tam_widgets.evaluate import Evaluation

with Evaluation(Path(sys.argv[1]), (0, 1)).lock():
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_process_on_the_same_shard_is_refused(coco, explainer, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(out)], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(EvaluationError, match=r"another process is already evaluating shard 0/1 into .*results-0"):
            run(explainer, open_dataset("coco", coco), out, progress=False, limit=1, max_new_tokens=6)
        assert not (out / "results-0-of-1.jsonl").exists()
        # The command line says so before loading the model.
        from tam_widgets import explain
        from tam_widgets.cli import main

        with monkeypatch.context() as m:
            m.setattr(explain, "load", lambda *a, **k: pytest.fail("the model was loaded before the checks"))
            assert main(cli_args(coco, out)) == 2
        assert "error: another process is already evaluating shard 0/1" in capsys.readouterr().err
    finally:
        holder.kill()  # a killed holder releases its lock
        holder.wait(30)
    assert run(explainer, open_dataset("coco", coco), out, progress=False, limit=1, max_new_tokens=6)["n_samples"] == 1


KILLED = """
import sys
import tam_widgets as tw
from tam_widgets.evaluate import open_dataset, run
from tests.test_evaluate import caption_kwargs

model, root, out = sys.argv[1:4]
explainer = tw.load(model, max_new_tokens=8)
run(explainer, open_dataset("coco", root), out, progress=False, **caption_kwargs(explainer))
"""


def test_a_run_killed_mid_way_resumes(explainer, tmp_path):
    import signal
    import time

    root = coco_formatted(tmp_path / "coco", copies=4)  # 12 samples
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tiny_model("qwen2_vl")), str(root), str(out)], env=env, cwd=ROOT
    )
    path = out / "results-0-of-1.jsonl"
    deadline = time.monotonic() + 300
    while not (path.exists() and path.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    n_before = path.read_bytes().count(b"\n")
    assert 2 <= n_before < 12 and not (out / "results-0-of-1.done").exists()
    summary = run(explainer, open_dataset("coco", root), out, progress=False, **caption_kwargs(explainer))
    ids = [r["id"] for r in rows_of(path)]
    assert sorted(ids, key=int) == [str(k) for k in range(1, 13)]  # each sample exactly once
    assert summary["n_samples"] == 12 and summary["n_failed"] == 0


def test_bad_lines_are_reported_with_file_and_line_and_skipped(coco, explainer, tmp_path):
    ds, out = open_dataset("coco", coco), tmp_path / "run"
    single = run(explainer, ds, out, progress=False, **caption_kwargs(explainer))
    path = out / "results-0-of-1.jsonl"
    with open(path, "a") as f:
        f.write('not json\n[1, 2]\n{"caption": "no id"}\n')
    with pytest.warns(EvaluationWarning) as caught:
        again = run(explainer, ds, out, progress=False, **caption_kwargs(explainer))
    messages = {str(w.message) for w in caught}
    assert f"{path}:4: not JSON (Expecting value); line skipped" in messages
    assert f"{path}:5: not a JSON object but list; line skipped" in messages
    assert f"{path}:6: no sample 'id'; line skipped" in messages
    assert same(again, single) and len(path.read_text().splitlines()) == 6  # nothing redone, nothing lost


def test_conflicting_duplicates_are_an_error_identical_ones_count_once(coco, explainer, tmp_path):
    ds, out = open_dataset("coco", coco), tmp_path / "run"
    kw = caption_kwargs(explainer)
    run(explainer, ds, out, shard=(0, 2), progress=False, **kw)
    single = run(explainer, ds, out, shard=(1, 2), progress=False, **kw)
    first, second = out / "results-0-of-2.jsonl", out / "results-1-of-2.jsonl"
    row = rows_of(first)[0]
    with open(second, "a") as f:
        f.write(json.dumps(row) + "\n")  # the same row twice (e.g. copied by hand): counted once
    assert same(merge(out, 2), single)
    with open(second, "a") as f:
        f.write(json.dumps({**row, "caption": "something else"}) + "\n")
    with pytest.raises(EvaluationError, match=rf"sample id '{row['id']}' has two different results: {first}:1 and "):
        merge(out, 2)
    # Rows of other settings are not pooled either.
    lines = second.read_text().splitlines()
    second.write_text("\n".join(lines[:-2] + [json.dumps({**row, "id": "99", "settings": "other"})]) + "\n")
    with pytest.raises(EvaluationError, match=rf"{second}:2 was made with other settings"):
        merge(out, 2)


def test_samples_are_read_one_at_a_time(coco, explainer, tmp_path, monkeypatch):
    import gc
    import weakref

    ds = open_dataset("coco", coco)
    events, pictures = [], []
    load, chat = ds._load, explainer.chat

    def read(rec):
        sample = load(rec)
        events.append(("read", rec["id"]))
        pictures.append(weakref.ref(sample.image))
        return sample

    def explain(**kw):
        gc.collect()
        events.append(("explain", sum(p() is not None for p in pictures)))  # decoded pictures still alive
        return chat(**kw)

    monkeypatch.setattr(ds, "_load", read)
    monkeypatch.setattr(explainer, "chat", explain)
    run(explainer, ds, tmp_path / "run", progress=False, max_new_tokens=4)
    assert events == [("read", "1"), ("explain", 1), ("read", "2"), ("explain", 1), ("read", "3"), ("explain", 1)]


def test_an_unreadable_picture_is_a_failed_row_and_the_run_goes_on(explainer, tmp_path):
    root = coco_formatted(tmp_path / "coco")
    missing = root / "image" / f"{2:012d}.jpg"
    saved = missing.read_bytes()
    missing.unlink()
    (root / "image" / f"{3:012d}.jpg").write_bytes(b"not a jpeg")  # a corrupt picture
    ds, out = open_dataset("coco", root), tmp_path / "run"
    # Outside --limit the bad pictures are never read.
    assert run(explainer, ds, tmp_path / "limited", progress=False, limit=1)["n_failed"] == 0
    with pytest.warns(EvaluationWarning) as caught:
        summary = run(explainer, ds, out, progress=False, **caption_kwargs(explainer))
    assert sorted(str(w.message).split(":")[0] for w in caught) == ["sample 2", "sample 3"]
    failed = {r["id"]: r["error"] for r in rows_of(out / "results-0-of-1.jsonl") if r.get("failed")}
    assert sorted(failed) == ["2", "3"]
    assert failed["2"].startswith("FileNotFoundError") and str(missing) in failed["2"]
    corrupt = str(root / "image" / f"{3:012d}.jpg")
    assert failed["3"].startswith("ValueError: cannot read") and corrupt in failed["3"]
    assert summary["n_samples"] == 1 and summary["n_failed"] == 2 and summary["failed"] == failed
    assert "2 samples failed and not scored (retried on resume), e.g. 2: FileNotFoundError" in format_table(summary)
    missing.write_bytes(saved)  # fixed: the resume retries the failed samples
    with pytest.warns(EvaluationWarning, match="sample 3: cannot read it"):
        fixed = run(explainer, ds, out, progress=False, **caption_kwargs(explainer))
    assert fixed["n_samples"] == 2 and fixed["n_failed"] == 1 and list(fixed["failed"]) == ["3"]


def test_summary_is_strict_json_and_empty_means_are_explained(coco, explainer, tmp_path):
    out = tmp_path / "run"
    summary = run(explainer, open_dataset("coco", coco), out, progress=False, **caption_kwargs(explainer, "A table."))
    on_disk = strict_json((out / "summary.json").read_text())
    assert on_disk == summary and summary["n_obj_words"] == 0
    assert summary["obj_iou"] is None and summary["f1_iou"] is None and 0 <= summary["func_iou"] <= 1
    assert summary["why_null"]["obj_iou"] == "no caption word matched a category of its sample's label mask"
    for line in (out / "results-0-of-1.jsonl").read_text().splitlines():
        strict_json(line)
    table = format_table(summary, "tam")
    assert "| tam | n/a |" in table and "nan" not in table
    assert "Obj-IoU n/a: no caption word matched a category" in table


def test_limit_must_be_positive(coco, explainer, tmp_path):
    for bad in (-1, 0):
        with pytest.raises(ValueError, match=rf"--limit must be a whole number >= 1.*got {bad}"):
            run(explainer, open_dataset("coco", coco), tmp_path / "x", progress=False, limit=bad)
    assert not (tmp_path / "x").exists()


SIBLING = """
import sys, time
from pathlib import Path
from tam_widgets.evaluate import prepare
from tests.test_evaluate import settings_of

out, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(out.parent / f"{me}-started").touch()
while not (out.parent / f"{other}-started").exists():
    time.sleep(0.01)
if me == "b":  # the second sibling reaches run() after the first one started over
    while not (out.parent / "a-done").exists():
        time.sleep(0.01)
prepare(out, settings_of(2), force_new=True)
(out / f"results-{'ab'.index(me)}-of-2.jsonl").write_text("")
(out.parent / f"{me}-done").touch()
"""


def settings_of(shards: int) -> dict:
    from tam_widgets.evaluate import run_settings

    return run_settings(
        model="m", method="tam", compat="default", dataset="coco", dataset_size=3, shards=shards, max_new_tokens=8
    )


def test_force_new_moves_aside_once_per_launch(tmp_path):
    from tam_widgets.evaluate import prepare

    out = tmp_path / "run"
    prepare(out, settings_of(2))
    (out / "results-0-of-2.jsonl").write_text('{"id": "1"}\n')
    # torchrun (or a shell) starts every shard's process with --force-new: only the first moves the old run aside.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", SIBLING, str(out)]
    procs = [
        subprocess.Popen([*cmd, me, other], env=env, cwd=ROOT, stderr=subprocess.PIPE) for me, other in ["ab", "ba"]
    ]
    for proc in procs:
        assert proc.wait(300) == 0, proc.stderr.read()[-2000:]
    (old,) = out.glob("old-*")
    assert (old / "results-0-of-2.jsonl").read_text() == '{"id": "1"}\n'
    assert (out / "results-0-of-2.jsonl").read_text() == "" and (out / "results-1-of-2.jsonl").exists()
    # One process starting over twice moves aside twice; each old run gets its own folder.
    for shards in (2, 1):
        with pytest.warns(EvaluationWarning, match="moved to"):
            prepare(out, settings_of(shards), force_new=True)
    olds = sorted(out.glob("old-*"))
    assert len(olds) == 3 and (olds[1] / "results-1-of-2.jsonl").exists() and (olds[2] / "run.json").exists()
    assert strict_json((out / "run.json").read_text())["settings"]["shards"] == 1
    # A damaged run.json is refused, then moved aside by force_new.
    (out / "run.json").write_text("{")
    with pytest.raises(EvaluationError, match=r"run\.json is damaged.*--force-new"):
        prepare(out, settings_of(1))
    with pytest.warns(EvaluationWarning, match="moved to"):
        prepare(out, settings_of(1), force_new=True)
    assert strict_json((out / "run.json").read_text())["settings"] == settings_of(1)


def test_rows_name_their_words_and_records_are_stored(coco, explainer, tmp_path):
    from tam_widgets.evaluate import record_name

    out = tmp_path / "rec"
    run(explainer, open_dataset("coco", coco), out, progress=False, save_records=True, **caption_kwargs(explainer))
    rows = {r["id"]: r for r in rows_of(out / "results-0-of-1.jsonl")}
    assert rows["2"]["obj_words"] == ["cat"] and rows["2"]["func_words"] == ["A", "a"]
    assert all(len(r["obj_words"]) == len(r["obj_iou"]) for r in rows.values())
    for sid, r in rows.items():
        assert r["record"] == record_name(sid) == f"records/{sid}.tam"
        assert tw.Explanation.load(out / r["record"]).answer == "A cat on a table."
    # starting over moves the stored records aside with the results
    with pytest.warns(EvaluationWarning, match="the earlier results were moved"):
        run(
            explainer,
            open_dataset("coco", coco),
            out,
            progress=False,
            force_new=True,
            limit=1,
            **caption_kwargs(explainer),
        )
    [old] = out.glob("old-*")
    assert (old / "records" / "1.tam").exists() and not (out / "records").exists()
    assert "record" not in rows_of(out / "results-0-of-1.jsonl")[0]


def test_cli_save_records(coco, tmp_path, capsys):
    from tam_widgets.cli import main

    out = tmp_path / "cli"
    assert main(cli_args(coco, out, "--limit", "1", "--save-records")) == 0
    assert [p.name for p in (out / "records").iterdir()] == ["1.tam"]


def test_vqa_accuracy_is_the_official_one(explainer, tmp_path):
    from tests.test_readme import _write_okvqa

    _write_okvqa(tmp_path)  # question 10: ten "cat"; question 20: seven "coffee", three "espresso"
    ds = open_dataset("okvqa", tmp_path)
    summary = run(explainer, ds, tmp_path / "out", progress=False, **caption_kwargs(explainer, "Espresso."))
    rows = {r["id"]: r for r in rows_of(tmp_path / "out" / "results-0-of-1.jsonl")}
    # leave-one-out: 3 matches when a "coffee" is left out (7 times), 2 when an "espresso" is (3 times); the
    # simpler min(#matches / 3, 1) gave 1.0
    assert rows["20"]["vqa_accuracy"] == pytest.approx((7 * 1 + 3 * 2 / 3) / 10)
    assert rows["10"]["vqa_accuracy"] == 0.0
    assert summary["vqa_accuracy"] == pytest.approx(0.45)
