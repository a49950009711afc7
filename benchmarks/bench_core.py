"""Speed and memory of the TAM core, against a baseline with the official code's structure.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_core.py [--quick]``).

For each case it prints the post-processing time of one whole answer (median of repeats) for
  * ``logits``: ``tam_from_logits`` on the model's ``[L, V]`` logits, the official code's input
    (batched ECI, batched filter): the hot path, and what the targets apply to;
  * ``hidden``: ``tam_from_hidden``, which also computes the class scores from the last hidden
    states (one ``[L, d] x [d, n_classes]`` product) so that no ``[L, V]`` tensor is needed;
  * ``reference``: ``compat="reference"`` (bit-exact official arithmetic, Brent per token);
  * ``baseline``: written here with the official code's structure, from the same logits: one
    evaluation per prompt and answer token, a scalar optimiser call per token, and a per-pixel
    Python loop for the rank Gaussian filter;
and the ratio baseline / logits. Memory: the peak RSS growth of the hidden path and of the
baseline (which needs the logits: their size is counted), each in a fresh process, and the
largest tensor the hidden path allocates (it must never have a vocabulary dimension).
The model has Qwen2-VL-2B's head: V = 151,936, d = 1,536.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from tam_widgets.core import synthetic_example, tam_from_logits
from tam_widgets.testing import ShapeRecorder
from tam_widgets.testing.bench import PeakMemory, timed

VOCAB, DIM = 151_936, 1536
CASES = {
    "image 24x32, 20 prompt + 30 answer": dict(grid=(24, 32), n_prompt=20, n_answer=30),
    "image 36x48, 128 answer": dict(grid=(36, 48), n_prompt=20, n_answer=128),
    "video 10x18x24, 30 answer": dict(grid=(10, 18, 24), n_prompt=20, n_answer=30),
    "image 24x32, 512 answer": dict(grid=(24, 32), n_prompt=20, n_answer=512),
}
TARGETS_MS = {"image 24x32, 20 prompt + 30 answer": 5.0, "image 36x48, 128 answer": 30.0}


def make(case: dict, vocab: int = VOCAB, dim: int = DIM):
    return synthetic_example(**case, vocab_size=vocab, dim=dim)


def run_default(ex, compat: str = "default"):
    return ex.tam(compat=compat)


def _rank_gaussian_loop(x: np.ndarray) -> np.ndarray:
    """Per-pixel loop, as the official code filters."""
    p = np.pad(x, 1, mode="reflect")
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            win = np.sort(p[i : i + 3, j : j + 3].ravel())
            mean = win.mean()
            if mean == 0:
                continue
            sigma = win.std() / mean
            w = np.exp(-((np.arange(9) - 4) ** 2) / (2 * sigma**2))
            v = (win * w / w.sum()).sum()
            out[i, j] = 0 if np.isnan(v) else v
    return out


def run_logits(ex, logits):
    return tam_from_logits(logits, ex.input_ids, **ex.layout)


def run_baseline(ex, logits: np.ndarray) -> list[np.ndarray]:
    """The official code's structure: from the logits, one evaluation at a time."""
    ids, vis, prompt, start = ex.input_ids, ex.visual_positions, ex.prompt_positions, ex.answer_start
    grid = ex.grid if len(ex.grid) == 3 else (1, *ex.grid)
    evals = [(int(ids[p]), int(p)) for p in prompt] + [(int(ids[p]), p) for p in range(start, len(ids))]
    ctx_maps, ctx_ids, ctx_pos, maps = [], [], [], []
    for c, pos in evals:
        a = np.maximum(logits[vis, c], 0)
        rel = np.array([max(logits[q - 1, c], 0) for q in ctx_pos])
        keep = [k for k, t in enumerate(ctx_ids) if t != c]
        if keep:
            w = rel[keep] / (rel[keep].sum() + 1e-8)
            interference = sum(wi * ctx_maps[k] for wi, k in zip(w, keep))
            s = minimize_scalar(lambda s, a=a, i=interference: np.sum((a - s * i) ** 2)).x
            m = np.maximum(a - s * interference, 0)
        else:
            m = a
        joint = np.concatenate([m, rel]) if len(rel) else m
        m = (m - joint.min()) / (joint.max() - joint.min() + 1e-12)
        frames = m.reshape(grid)
        maps.append(np.stack([_rank_gaussian_loop(f) for f in frames]))
        ctx_maps.append(a)
        ctx_ids.append(c)
        ctx_pos.append(pos)
    return maps


def largest_tensor(ex) -> tuple[tuple[int, ...], int]:
    with ShapeRecorder() as rec:
        run_default(ex)
    biggest = max(rec.shapes, key=lambda s: int(np.prod(s)))
    has_vocab = any(ex.lm_head_weight.shape[0] in s for s in rec.shapes)
    return biggest, has_vocab


def peak_rss_mb(case_name: str, path: str) -> float:
    """Peak RSS growth of one path, in a fresh process (inputs made before the mark)."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory", case_name, path], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]


def _memory_child(case_name: str, path: str) -> None:
    ex = make(CASES[case_name])
    if path == "hidden":

        def fn():
            return run_default(ex)
    else:  # the baseline needs the logits: they are made after the mark, as the model would

        def fn():
            return run_baseline(ex, (ex.hidden @ ex.lm_head_weight.T).numpy())

    with PeakMemory() as peak:
        fn()
    print(json.dumps({"peak_mb": peak.mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, baseline only on the first case")
    parser.add_argument("--memory", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        _memory_child(*args.memory)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, head V={VOCAB} d={DIM}; times in ms")
    print(
        f"{'case':36s} {'logits':>7s} {'hidden':>7s} {'reference':>9s} {'baseline':>9s} {'ratio':>7s}  "
        f"{'peak MB hidden/base':>19s}  largest new tensor (hidden path)"
    )
    for k, (name, case) in enumerate(CASES.items()):
        ex = make(case)
        logits = ex.logits
        t_log = timed(lambda ex=ex, lg=logits: run_logits(ex, lg), 5 if args.quick else 30) * 1e3
        t_hid = timed(lambda ex=ex: run_default(ex), 5 if args.quick else 30) * 1e3
        t_ref = timed(lambda ex=ex: run_default(ex, "reference"), 1 if args.quick else 3) * 1e3
        do_base = not args.quick or k == 0
        lg_np = logits.numpy()
        t_base = timed(lambda ex=ex, lg=lg_np: run_baseline(ex, lg), 1) * 1e3 if do_base else float("nan")
        del logits, lg_np
        mem_hidden = peak_rss_mb(name, "hidden")
        mem_base = peak_rss_mb(name, "baseline") if do_base else float("nan")
        biggest, has_vocab = largest_tensor(ex)
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else (f"  target <= {target:g} ms: " + ("met" if t_log <= target else "MISSED"))
        print(
            f"{name:36s} {t_log:7.2f} {t_hid:7.2f} {t_ref:9.1f} {t_base:9.0f} {t_base / t_log:6.0f}x  "
            f"{mem_hidden:8.1f} /{mem_base:8.1f}  {biggest}{' VOCAB DIM!' if has_vocab else ''}{verdict}"
        )


if __name__ == "__main__":
    main()
