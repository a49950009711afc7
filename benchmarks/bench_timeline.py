"""First render and click-to-repaint of the chat timeline in headless chromium; the kernel's cost per pushed record.

Run: ``.venv/bin/python benchmarks/bench_timeline.py [--turns 10] [--tokens 128] [--clicks 60]`` (needs Debian's
chromium: ``make browser``).

Case (``tam_widgets.testing.fake_chat.conversation_record``): a conversation of ``--turns`` turns with
``--tokens`` answer tokens each, pictures (24x32 grids over 448x336 pictures) added in turns 1, 4 and 7,
maps ``tam`` and ``cam``. The timeline is exported with ``ChatTimeline.to_html`` and opened from disk. The
page measures itself (``window.__tamPerf``): first render = navigation start to the first painted map;
repaint = from the click's event timestamp to the animation frame after the new map is drawn. Each click
lands on an explained token of a random turn: the pointer is moved onto the token first and the hover's own
repaint is left out, so a sample is the click alone (pin, strip colours of every turn, map, readout).
Targets (issue #12): first render <= 1 s, click-to-repaint median <= 16 ms.

Kernel side (same process): the time to turn the whole conversation into what the page gets
(:func:`~tam_widgets.widgets.timeline.timeline_payload`), which a live timeline pays per push (at most every
``PUSH_INTERVAL`` while a turn is written, at once for a turn's first token).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tam_widgets.testing.browser import browser_problem, launch
from tam_widgets.testing.fake_chat import Turn, conversation_record
from tam_widgets.widgets.timeline import PUSH_INTERVAL, timeline_payload, to_html

TARGETS = {"median": 16.0, "first": 1000.0}

CENTRE = """(i) => { const e = document.querySelectorAll('.tam-turn-answer .tam-tok.tam-explained')[i];
  e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2]; }"""


def conversation(turns: int, tokens: int):
    return conversation_record(
        [Turn(f"Question number {t + 1} about the pictures?", tokens, images=1 if t in (0, 3, 6) else 0)
         for t in range(turns)],
        grid=(24, 32), image_size=(336, 448), methods=("tam", "cam"),
    )


def measure(browser, url: str, clicks: int, seed: int = 0) -> tuple[float, list[float]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=30_000)
    first = page.evaluate("window.__tamPerf.firstRender")
    n = page.locator(".tam-turn-answer .tam-tok.tam-explained").count()
    rng = np.random.default_rng(seed)
    samples = []
    for k in rng.permutation(n)[: min(clicks, n)]:
        x, y = page.evaluate(CENTRE, int(k))
        page.mouse.move(x, y)
        page.wait_for_timeout(40)
        page.evaluate("window.__tamPerf.repaint.length = 0")
        page.mouse.down()
        page.mouse.up()
        page.wait_for_timeout(40)
        got = page.evaluate("window.__tamPerf.repaint")
        samples += got[:1]
    page.close()
    return first, samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--tokens", type=int, default=128, help="answer tokens per turn")
    ap.add_argument("--clicks", type=int, default=60)
    ap.add_argument("--loads", type=int, default=5, help="fresh page loads for the first render")
    args = ap.parse_args(argv)

    exp = conversation(args.turns, args.tokens)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        timeline_payload(exp)
        times.append((time.perf_counter() - t) * 1000)
    print(f"conversation: {args.turns} turns x {args.tokens} answer tokens, {len(exp.tokens)} tokens, "
          f"{len(exp.grids)} pictures, {sum(g.size for g in exp.grids)} visual tokens, methods {exp.methods}")
    print(f"kernel: whole record to page payload, from scratch: median {statistics.median(times):.1f} ms")
    # a live push: the conversation grew by one token since the last push (rows and pictures cached)
    turns = [Turn(f"Question number {t + 1} about the pictures?", args.tokens, images=1 if t in (0, 3, 6) else 0)
             for t in range(args.turns)]
    grow = []
    for k in range(5):
        cache: dict = {}
        before = [*turns[:-1], Turn(turns[-1].prompt, args.tokens - 2 + k % 2, closed=False)]
        after = [*turns[:-1], Turn(turns[-1].prompt, args.tokens - 1 + k % 2, closed=False)]
        opts = {"grid": (24, 32), "image_size": (336, 448), "methods": ("tam", "cam")}
        small, big = conversation_record(before, **opts), conversation_record(after, **opts)
        timeline_payload(small, cache=cache)
        t = time.perf_counter()
        timeline_payload(big, cache=cache)
        grow.append((time.perf_counter() - t) * 1000)
    print(f"kernel: one live push (the record grew by a token; earlier rows and pictures reused): median "
          f"{statistics.median(grow):.1f} ms (pushes at most every {PUSH_INTERVAL * 1000:.0f} ms while a turn is "
          "written, the first token's at once)")

    problem = browser_problem()
    if problem:
        print(f"no browser: {problem}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        path = to_html(exp, Path(tmp) / "timeline.html")
        print(f"page: {path.stat().st_size / 1e6:.1f} MB")
        with launch() as browser:
            firsts = []
            for _ in range(args.loads):
                f, _ = measure(browser, path.as_uri(), 0)
                firsts.append(f)
            _, samples = measure(browser, path.as_uri(), args.clicks)
    first = statistics.median(firsts)
    med = statistics.median(samples)
    p95 = float(np.percentile(samples, 95))
    ok_first, ok_med = first <= TARGETS["first"], med <= TARGETS["median"]
    print(f"first render: median {first:.0f} ms over {len(firsts)} loads (target <= {TARGETS['first']:.0f}) "
          f"{'ok' if ok_first else 'OVER'}")
    print(f"click-to-repaint: median {med:.1f} ms, p95 {p95:.1f} ms over {len(samples)} clicks "
          f"(target median <= {TARGETS['median']:.0f}) {'ok' if ok_med else 'OVER'}")
    return 0 if ok_first and ok_med else 2


if __name__ == "__main__":
    sys.exit(main())
