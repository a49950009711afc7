"""End-to-end evaluation on a synthetic COCO-style set with a tiny model: single and 2-process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tam_widgets as tw
from tam_widgets.evaluate import format_table, merge, open_dataset, parse_shard, run, vqa_accuracy
from tam_widgets.testing import tiny_model
from tam_widgets.testing.datasets import coco_formatted

ROOT = Path(__file__).resolve().parents[1]


def same(a: dict, b: dict) -> bool:
    """Equal summaries, NaN included (no obj word in a tiny model's caption gives a NaN mean)."""
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


def caption_kwargs(explainer):
    return {"generation": {"logits_processor": [ForceCaption(explainer.adapter.tokenizer)]}, "max_new_tokens": 12}


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
    assert "| Obj-IoU |" in format_table(single).splitlines()[0].replace(" method", "")


def test_resume_after_a_killed_run(coco, explainer, tmp_path):
    ds = open_dataset("coco", coco)
    out = tmp_path / "run"
    run(explainer, ds, out, max_new_tokens=8, progress=False, limit=1)
    path = out / "results-0-of-1.jsonl"
    with open(path, "a") as f:
        f.write('{"id": "2", "capt')  # a half-written line, as a kill leaves it
    summary = run(explainer, ds, out, max_new_tokens=8, progress=False)
    assert summary["n_samples"] == 3


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


def test_cli_evaluate(coco, tmp_path, capsys):
    from tam_widgets.cli import main

    out = tmp_path / "cli"
    args = [
        "evaluate",
        "--model",
        str(tiny_model("qwen2_vl")),
        "--dataset",
        "coco",
        "--root",
        str(coco),
        "--out",
        str(out),
        "--max-new-tokens",
        "6",
    ]
    assert main([*args, "--shard", "0/2"]) == 0
    assert "shard 0/2 done" in capsys.readouterr().out
    assert main([*args, "--shard", "1/2"]) == 0
    table = capsys.readouterr().out
    assert "| Obj-IoU | Func-IoU | F1-IoU | METEOR | ROUGE-L |" in table and "tam (default)" in table
    assert json.loads((out / "summary.json").read_text())["n_samples"] == 3


def test_helpers():
    assert parse_shard("1/4") == (1, 4)
    with pytest.raises(ValueError, match="i/n"):
        parse_shard("1-4")
    with pytest.raises(ValueError, match="0 <= i < n"):
        parse_shard("4/4")
    assert vqa_accuracy("Red.", ["red", "red", "blue", "red"]) == 1.0
    assert vqa_accuracy("green", ["red"]) == 0.0
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
