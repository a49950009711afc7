"""Scaled-out evaluation: explain every sample of a dataset, score it, resume, merge shards.

    tam-widgets evaluate --model ID --dataset coco --root PATH --method tam --out DIR
    torchrun --nproc_per_node 2 -m tam_widgets evaluate ...       # or --shard i/n by hand

Each process handles every n-th sample (``--shard i/n``, or ``RANK``/``WORLD_SIZE`` when
launched by ``torchrun`` / ``accelerate launch``) and appends one JSON line per finished sample
to ``DIR/results-<i>-of-<n>.jsonl`` (flushed and fsynced), so a killed run resumes where it
stopped. When every shard is done, the results are pooled over words as the paper does and
written to ``DIR/summary.json``; ``format_table`` prints them like the paper's Table 3.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS = ("coco", "grandf", "openpsg", "okvqa", "star")


def open_dataset(name: str, root: str | os.PathLike, **kwargs):
    """A dataset loader by name: coco, grandf, openpsg, okvqa or star."""
    from . import datasets

    classes = {
        "coco": datasets.CocoCaption,
        "grandf": datasets.GranDf,
        "openpsg": datasets.OpenPSG,
        "okvqa": datasets.OKVQA,
        "star": datasets.STAR,
    }
    if name not in classes:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return classes[name](root, **kwargs)


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``; ``None`` -> from ``RANK``/``WORLD_SIZE`` (torchrun, accelerate) or ``(0, 1)``."""
    if text is None:
        return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/n (e.g. 0/2), got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--shard {text}: need 0 <= i < n")
    return i, n


@dataclass
class Evaluation:
    """Where one shard's results go, and which samples are already done."""

    out: Path
    shard: tuple[int, int]

    @property
    def path(self) -> Path:
        i, n = self.shard
        return self.out / f"results-{i}-of-{n}.jsonl"

    def done(self) -> set[str]:
        """Ids already finished. A half-written last line left by a killed run is cut off."""
        if not self.path.exists():
            return set()
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            with open(self.path, "r+b") as f:
                f.truncate(raw.rfind(b"\n") + 1)
        ids = set()
        for line in self.path.read_text().splitlines():
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError):
                continue
        return ids

    def append(self, row: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def mark_complete(self) -> None:
        (self.out / f"{self.path.stem}.done").write_text("ok\n")


def vqa_accuracy(answer: str, answers: list[str]) -> float:
    """The VQA metric: min(#humans who gave this answer / 3, 1) on normalised strings."""
    norm = " ".join(answer.lower().strip(" .").split())
    return min(sum(" ".join(a.lower().strip(" .").split()) == norm for a in answers) / 3, 1.0)


def score_sample(exp, sample, tokenizer, method: str, compat: str, maps: np.ndarray | None = None) -> dict:
    """One result row: the caption, per-word IoUs, METEOR / ROUGE-L or VQA accuracy.

    The maps are the record's ``method`` maps, or ``maps`` (one per generated token, over the
    first image's grid) when given. With ``compat="official"`` a record should come from
    ``compat="reference"`` explanations: its maps are then exactly the official code's
    (``maps[0]`` is the first prompt token's).
    """
    from .metrics import meteor, rouge_l, score_caption

    start, end = exp.metadata["answer_spans"][0]
    generated = [t.id for t in exp.tokens if start <= t.position < end]
    rows = [r for r, i in enumerate(exp.explained) if compat == "official" or start <= exp.tokens[int(i)].position]
    caption = exp.answer
    row = {"id": sample.id, "caption": caption, "prompt": sample.prompt}
    if sample.label_mask is not None:
        if maps is None:
            maps = np.stack([exp.map(int(exp.explained[r]), method)[0] for r in rows])
        if compat == "official":
            maps = np.round(np.clip(maps, 0, 1) * 255).astype(np.uint8)
        result = score_caption(maps, generated, tokenizer, sample.label_mask, sample.categories, compat=compat)
        row.update(
            obj_iou=[float(x) for x in result.obj_iou],
            func_iou=[float(x) for x in result.func_iou],
            skipped=bool(getattr(result, "skipped", False)),
        )
    if sample.references:
        row.update(meteor=float(meteor(caption, sample.references)), rouge_l=float(rouge_l(caption, sample.references)))
    if sample.answers:
        row["vqa_accuracy"] = vqa_accuracy(caption, sample.answers)
    return row


def run(
    explainer,
    dataset,
    out: str | os.PathLike,
    *,
    method: str = "tam",
    compat: str = "default",
    shard: tuple[int, int] = (0, 1),
    max_new_tokens: int = 256,
    limit: int | None = None,
    progress: bool = True,
    wait_for_shards: float = 0,
    generation: dict | None = None,
) -> dict | None:
    """Evaluate this process's shard; if every shard is complete, merge and return the summary.

    ``generation`` holds extra ``generate()`` keywords (greedy decoding by default).
    """
    from tqdm.auto import tqdm

    from .methods import METHODS, compute

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(sorted(METHODS))}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ev = Evaluation(out, shard)
    done = ev.done()
    samples = dataset.shard(*shard)
    todo = [s for k, s in enumerate(samples) if (limit is None or k < limit) and s.id not in done]
    tokenizer = explainer.adapter.tokenizer
    bar = tqdm(todo, desc=f"shard {shard[0]}/{shard[1]}", disable=not progress, unit="sample")
    for sample in bar:
        media = {"video": sample.frames} if getattr(sample, "frames", None) else {"image": sample.image}
        chat = explainer.chat(**media)
        exp = chat.ask(sample.prompt, max_new_tokens=max_new_tokens, **(generation or {}))
        maps = None
        if method not in exp.maps:  # a baseline from the registry, computed from the same turn
            flat = compute(method, chat.method_input())
            g = exp.grids[0]
            maps = flat[:, g.offset : g.offset + g.size].reshape(len(flat), *g.grid)
        ev.append(score_sample(exp, sample, tokenizer, method, compat, maps))
    ev.mark_complete()
    deadline = time.monotonic() + wait_for_shards
    while True:
        summary = merge(out, shard[1])
        if summary is not None or time.monotonic() >= deadline:
            return summary
        time.sleep(1)


def merge(out: str | os.PathLike, n: int) -> dict | None:
    """Pool every shard's rows (``None`` while a shard is unfinished) and write ``summary.json``."""
    from .metrics import summarize

    out = Path(out)
    if not all((out / f"results-{i}-of-{n}.done").exists() for i in range(n)):
        return None
    rows: dict[str, dict] = {}
    for i in range(n):
        for line in (out / f"results-{i}-of-{n}.jsonl").read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            rows[row["id"]] = row
    ordered = [rows[k] for k in sorted(rows)]
    scored = [r for r in ordered if "obj_iou" in r and not r.get("skipped")]
    summary = (
        {k: (float(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in summarize(scored).items()}
        if scored
        else {}
    )
    for key in ("meteor", "rouge_l", "vqa_accuracy"):
        values = [r[key] for r in ordered if key in r]
        if values:
            summary[key] = float(np.mean(values))
    summary["n_samples"] = len(ordered)
    tmp = out / f".summary.{os.getpid()}.json"  # several shards may merge at once: replace atomically
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out / "summary.json")
    return summary


def format_table(summary: dict, name: str = "") -> str:
    """The summary as a row of the paper's Table 3 (percentages)."""
    cols = [
        ("Obj-IoU", "obj_iou"),
        ("Func-IoU", "func_iou"),
        ("F1-IoU", "f1_iou"),
        ("METEOR", "meteor"),
        ("ROUGE-L", "rouge_l"),
        ("VQA acc", "vqa_accuracy"),
    ]
    cols = [(h, k) for h, k in cols if k in summary]
    head = "| method | " + " | ".join(h for h, _ in cols) + " |"
    sep = "| --- | " + " | ".join("---" for _ in cols) + " |"

    def cell(v: float) -> str:
        return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"

    body = f"| {name} | " + " | ".join(cell(summary[k]) for _, k in cols) + " |"
    return "\n".join([head, sep, body])
