"""Streaming asks: the incremental maps' cost per token, and ``ask(stream=True)`` against plain ``generate()``.

Run: ``.venv/bin/python benchmarks/bench_stream.py [--tokens 32] [--repeats 5]``.

1. :class:`~tam_widgets.core.incremental.IncrementalTAM` on synthetic hidden states with a 24x32
   grid and 64 context tokens (the prompt's text; each answer token then joins the context), for
   a small and a Qwen2-VL-2B-sized hidden width: the median cost per generated token of taking
   the token (scores, ECI) and of making its maps (normalisation, filter), as a streaming ask
   with a subscriber does after every token. Target: <= 2 ms per token.
2. On the tiny random models of every family, in one process (median of repeats), the same
   number of new tokens (``min_new_tokens`` = ``max_new_tokens``): a user's plain pipeline
   (processor + ``model.generate``), ``chat.ask`` (maps after generation), ``ask(stream=True)``
   with nobody subscribed (the maps made at the end, as ``ask`` makes them; a token's maps are made
   when its event's record is read),
   ``ask(stream=True)`` shown live in a ``ChatTimeline`` (its pushes: the turn's first token's whole
   record, then at most every 100 ms what the turn added), the same with whole-record pushes and a
   subscriber that reads every token's record (how the timeline worked before pushes carried only what
   is new), and with a subscriber that takes every token event's record. Target:
   ``ask(stream=True)`` within 25% of ``generate()``. Tiny models make the model itself nearly
   free, so these ratios are an upper bound; with a real model each token costs far more.

3. A long conversation on the tiny Qwen2-VL (``--turns`` turns of ``--long-tokens`` answer tokens): while
   one more turn is written, the kernel's cost of one live push of the timeline: reading a token event's
   record (made when read) and :func:`~tam_widgets.widgets.payload.append_payload` of what it added since
   the previous push, against the whole record's payload (what a push cost before).

Times are the process's CPU time (``time.process_time``, median of repeats after a warm-up; the
runs of a family interleaved, ratios the median of each repeat's ratio), not wall time: on a
shared machine other processes' load would otherwise dominate. Run with
``OMP_NUM_THREADS=1`` so that CPU time and wall time agree on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np


def cpu_timed(fn: Callable[[], object], repeats: int) -> float:
    """Median CPU time of ``fn()`` in seconds over ``repeats`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def per_token(dim: int, grid=(24, 32), n_context: int = 64, n_answer: int = 64) -> dict[str, float]:
    """Median ms per token of ``add`` and of ``rows(i, i + 1)`` over an answer of ``n_answer`` tokens."""
    import torch

    from tam_widgets.core import synthetic_example
    from tam_widgets.core.incremental import IncrementalTAM

    ex = synthetic_example(grid=grid, n_prompt=n_context, n_answer=n_answer, dim=dim, vocab_size=4096)
    hidden, weight = torch.as_tensor(ex.hidden), torch.as_tensor(ex.lm_head_weight)
    ctx = ex.prompt_positions
    assert len(ctx) == n_context
    adds, rows = [], []
    for _ in range(2):  # the first pass warms up
        adds, rows = [], []
        inc = IncrementalTAM(hidden[ex.visual_positions], weight, ex.grid, ex.input_ids[ctx], hidden[ctx - 1])
        for p in range(ex.answer_start, len(ex.input_ids)):
            t0 = time.process_time()
            i = inc.add(int(ex.input_ids[p]), hidden[p - 1])
            t1 = time.process_time()
            inc.rows(i, i + 1)
            t2 = time.process_time()
            adds.append(t1 - t0)
            rows.append(t2 - t1)
    batch = cpu_timed(inc.rows, 5) / n_answer
    return {
        "add": 1e3 * statistics.median(adds),
        "rows": 1e3 * statistics.median(rows),
        "total": 1e3 * statistics.median(np.add(adds, rows)),
        "rows_at_end": 1e3 * batch,
    }


def long_chat(turns: int, tokens: int, every: int = 16) -> dict[str, float]:
    """Median ms of one timeline push's kernel work while turn ``turns + 1`` of a long chat is written."""
    from skimage import data

    import tam_widgets as tw
    from tam_widgets.testing import tiny_model
    from tam_widgets.widgets.payload import append_payload, build_payload

    explainer = tw.load(tiny_model("qwen2_vl"), max_new_tokens=tokens, min_new_tokens=tokens)
    chat = explainer.chat(image=data.astronaut())
    for t in range(turns):
        chat.ask(f"Question {t + 1} about the picture?")
    events = []
    chat.subscribe(lambda e: e.kind == "token" and events.append(e))
    chat.ask("One more question?", stream=True)
    picked = events[every - 1 :: every]
    read, append, whole = [], [], []
    previous, cache = picked[0].explanation, {}
    build_payload(previous, cache=cache)  # rows and pictures already prepared, as a live timeline keeps them
    for e in picked[1:]:
        t0 = time.process_time()
        exp = e.explanation
        t1 = time.process_time()
        append_payload(previous, exp)
        t2 = time.process_time()
        build_payload(exp, cache=cache)
        t3 = time.process_time()
        read.append(t1 - t0)
        append.append(t2 - t1)
        whole.append(t3 - t2)
        previous = exp
    return {"tokens": len(exp.tokens), "read": 1e3 * statistics.median(read),
            "append": 1e3 * statistics.median(append), "whole": 1e3 * statistics.median(whole)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="answer length (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--turns", type=int, default=10, help="earlier turns of the long chat (0: skip it)")
    parser.add_argument("--long-tokens", type=int, default=128, help="answer tokens per turn of the long chat")
    args = parser.parse_args()
    import torch
    from bench_explain import FAMILIES, _photo, _plain

    import tam_widgets as tw
    from tam_widgets.testing import tiny_model
    from tam_widgets.widgets.timeline import ChatTimeline

    class WholeRecords(ChatTimeline):
        """The timeline as it was: every push a whole record (the page built it again)."""

        def _show(self, exp, seq=None, *, grow=False, final=False):
            super()._show(exp, seq)

    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU times in ms; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\nincremental maps per generated token, 24x32 grid, 64 context tokens (target <= 2 ms):")
    print(f"{'hidden d':>9s} {'take token':>11s} {'make maps':>10s} {'per token':>10s} {'maps at end':>12s}")
    for dim in (64, 1536):
        r = per_token(dim)
        print(f"{dim:9d} {r['add']:11.3f} {r['rows']:10.3f} {r['total']:10.3f} {r['rows_at_end']:12.3f}")

    image, prompt, n = _photo(), "Describe this image.", args.tokens
    print(f"\nend to end on the tiny models, {n} new tokens (target: stream within 25% of generate):")
    print(
        f"{'family':12s} {'generate':>9s} {'ask':>9s} {'stream':>9s} {'+timeline':>10s} {'+whole':>8s} {'+records':>9s}"
        f" {'ask/gen':>8s} {'stream/gen':>11s} {'+timeline/gen':>14s} {'+whole/gen':>11s} {'+records/gen':>13s}"
    )
    for family in FAMILIES:
        explainer = tw.load(tiny_model(family), max_new_tokens=n, min_new_tokens=n)

        def ask(stream: bool, subscribe: bool, view: str = "", e=explainer):
            chat = e.chat(image=image)
            if subscribe:
                seen = []
                chat.subscribe(lambda event: seen.append(event.explanation))
            tl = (WholeRecords if view == "whole" else ChatTimeline)(chat, snapshot=False) if view else None
            try:
                return chat.ask(prompt, stream=stream)
            finally:
                if tl is not None:
                    tl.close()

        runs = {
            "generate": lambda e=explainer: _plain(e, image, prompt, n),
            "ask": lambda: ask(False, False),
            "stream": lambda: ask(True, False),
            "timeline": lambda: ask(True, False, "timeline"),
            "whole": lambda: ask(True, True, "whole"),
            "records": lambda: ask(True, True),
        }
        for fn in runs.values():  # warm-up
            fn()
        times: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(args.repeats):  # interleaved, so that a change of load hits all runs alike
            for k, fn in runs.items():
                t = time.process_time()
                fn()
                times[k].append(1e3 * (time.process_time() - t))
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = {k: statistics.median(np.divide(v, times["generate"])) for k, v in times.items()}
        print(
            f"{family:12s} {med['generate']:9.1f} {med['ask']:9.1f} {med['stream']:9.1f} {med['timeline']:10.1f}"
            f" {med['whole']:8.1f} {med['records']:9.1f} {ratio['ask']:8.2f} {ratio['stream']:11.2f}"
            f" {ratio['timeline']:14.2f} {ratio['whole']:11.2f} {ratio['records']:13.2f}"
        )
    if args.turns:
        r = long_chat(args.turns, args.long_tokens)
        print(f"\nlong chat on qwen2_vl: turn {args.turns + 1} written after {args.turns} turns of {args.long_tokens} "
              f"tokens ({r['tokens']} tokens at the end); one timeline push in the kernel: the token's record "
              f"{r['read']:.1f} ms + what it added {r['append']:.1f} ms (was: a record for every token, and per push "
              f"the whole payload, {r['whole']:.1f} ms with its earlier rows and pictures cached)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
