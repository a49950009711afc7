"""Hover-to-repaint latency and first render of the token map explorer in real headless chromium.

Run: ``.venv/bin/python benchmarks/bench_widget.py [--hovers N]`` (needs Debian's chromium: ``make browser``).

Cases (hand-built records, ``tam_widgets.testing.records``): a 512-token answer with one 36x48 grid over a
768x576 picture and four map kinds, and a 10-frame video (10x18x24 grid, 576x432 frames). Each is exported
with ``to_html`` and opened from disk. The page itself measures (``window.__tamPerf``): first render = time
from navigation start until the first heatmap is painted; repaint = from the hover event's timestamp to the
animation frame after the new map is drawn. Targets: median <= 16 ms, p95 <= 33 ms, first render <= 1 s.

Baseline, in the same process: what a Python-rendered viewer (matplotlib/Gradio style) does per hover for
the same token: blend the overlay (``Explanation.overlay``) and encode it as PNG, before any transfer.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tam_widgets.testing.browser import browser_problem, launch
from tam_widgets.testing.records import synthetic_record

TARGETS = {"median": 16.0, "p95": 33.0, "first": 1000.0}


def cases() -> dict:
    return {
        "512 tokens, 36x48, 768x576": synthetic_record(512, grid=(36, 48), image_size=(576, 768)),
        "video 10 frames, 18x24, 576x432": synthetic_record(30, grid=(18, 24), image_size=(432, 576), frames=10),
    }


def python_baseline(exp, rows: list[int]) -> float:
    """Median ms to render one token's overlay of every frame to PNG in Python."""
    from PIL import Image

    times = []
    for r in rows:
        idx = int(exp.explained[r])
        t = time.perf_counter()
        for f in range(len(exp.grids[0].frames)):
            Image.fromarray(exp.overlay(idx, frame=f)).save(io.BytesIO(), format="PNG")
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def measure(browser, html: Path, hovers: int) -> tuple[float, list[float]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(html.as_uri())
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=30_000)
    first = page.evaluate("window.__tamPerf.firstRender")
    tokens = page.locator(".tam-tok.tam-explained")
    n = tokens.count()
    page.evaluate("window.__tamPerf.repaint.length = 0")
    order = np.random.default_rng(0).permutation(n)[: min(hovers, n)]
    for k in order:
        tokens.nth(int(k)).hover()
    page.wait_for_timeout(100)
    repaint = page.evaluate("window.__tamPerf.repaint")
    page.close()
    return first, repaint


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hovers", type=int, default=150, help="tokens hovered per case (default 150)")
    args = ap.parse_args(argv)
    problem = browser_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    ok = True
    with tempfile.TemporaryDirectory() as tmp, launch() as browser:
        print(f"{'case':34} {'first render':>13} {'hover median':>13} {'p95':>8} {'n':>5} "
              f"{'python render':>14} {'ratio':>7}")
        for name, exp in cases().items():
            html = exp.to_html(Path(tmp) / "bench.html")
            first, rep = measure(browser, html, args.hovers)
            if not rep:
                print(f"{name}: the page recorded no repaint", file=sys.stderr)
                return 1
            med, p95 = statistics.median(rep), float(np.percentile(rep, 95))
            base = python_baseline(exp, list(range(0, exp.explained.size, max(1, exp.explained.size // 20))))
            print(f"{name:34} {first:10.0f} ms {med:10.1f} ms {p95:5.1f} ms {len(rep):5d} "
                  f"{base:11.1f} ms {base / med:6.1f}x")
            ok &= med <= TARGETS["median"] and p95 <= TARGETS["p95"] and first <= TARGETS["first"]
    print(f"targets: median <= {TARGETS['median']:.0f} ms, p95 <= {TARGETS['p95']:.0f} ms, "
          f"first render <= {TARGETS['first']:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
