"""Hover-to-repaint latency and first render of the token map explorer in real headless chromium.

Run: ``.venv/bin/python benchmarks/bench_widget.py [--hovers N] [--baseline-ref REF | --baseline-static DIR]``
(needs Debian's chromium: ``make browser``). A baseline is another front-end bundle timed side by side with
this one in the same run: ``--baseline-ref`` builds the bundle of any git ref (``js/`` of that commit taken
with ``git archive`` into a temp folder and built there with this checkout's ``js/node_modules``; nothing in
the repository changes), ``--baseline-static`` takes a built ``tam_widgets/static`` folder. Every page is then
also written with the baseline's ``widget.css`` and ``standalone.js`` in today's page (the document in the
shape that bundle reads: the page document, or ``{state, meta, buffers}`` before it), the two pages of a case
timed one after the other; ``--rounds R`` repeats every measurement R times, the order of the two bundles
alternating, and pools the samples (first render: the median of every load, ``--loads`` fresh loads per page
and round). E.g. against main before issue 16's front-end changes::

    python benchmarks/bench_widget.py --baseline-ref 5321f68 --rounds 3 --loads 5

Cases (hand-built records, ``tam_widgets.testing.records``): a 512-token answer with one 36x48 grid over a
768x576 picture and four map kinds, and a 10-frame video (10x18x24 grid, 576x432 frames). Each is exported
with ``to_html`` and opened from disk. The page itself measures (``window.__tamPerf``): first render = time
from navigation start until the first heatmap is painted; repaint = from the hover event's timestamp to the
animation frame after the new map is drawn. Three pointer patterns (``PATTERNS``): the pointer lands on a word
after a pause (the targets apply here: median <= 16 ms, p95 <= 33 ms, first render <= 1 s), the pointer sweeps
across words in continuous motion, and Playwright's ``hover()``. Before each pattern the same measurement on a
page whose handler draws nothing gives the browser's own floor: in continuous motion headless chromium's frame
clock alone takes about 16 ms, so the column "over floor" is what the widget adds.

Baseline, in the same process: what a Python-rendered viewer (matplotlib/Gradio style) does per hover for
the same token: blend the overlay (``Explanation.overlay``) and encode it as PNG, before any transfer.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

from tam_widgets.testing.browser import browser_problem, launch
from tam_widgets.testing.records import synthetic_record
from tam_widgets.widgets.html import page_document, write_page

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


CENTRE = """(i) => { const e = document.querySelectorAll('.tam-tok.tam-explained')[i];
  e.scrollIntoView({block: 'nearest'}); const r = e.getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2]; }"""

# The browser's own floor: the same measurement on a page whose hover handler draws nothing.
FLOOR_PAGE = """<!DOCTYPE html><html><body><div id="s"></div><script>
window.__tamPerf = {firstRender: performance.now(), repaint: []};
const s = document.getElementById('s');
for (let i = 0; i < 512; i++) { const e = document.createElement('span');
  e.className = 'tam-tok tam-explained'; e.textContent = ' w' + i; s.appendChild(e); }
let last = null;
s.addEventListener('pointerrawupdate', (ev) => { if (ev.target === last) return; last = ev.target;
  const ts = ev.timeStamp; requestAnimationFrame(() => { const ch = new MessageChannel();
    ch.port1.onmessage = () => window.__tamPerf.repaint.push(performance.now() - ts); ch.port2.postMessage(0); }); });
</script></body></html>"""


#: How the pointer reaches each sampled token: (steps of the move, pause before it in ms, use hover()).
PATTERNS = {
    "lands": (1, (30, 60), False),  # the pointer comes to rest on a word after a pause
    "sweeps": (10, (0, 1), False),  # continuous motion: 10 pointer events per move, crossing other words
    "hover()": (1, (0, 1), True),  # Playwright's locator.hover(), with its own hit-target checks
}


REPO = Path(__file__).resolve().parents[1]


def legacy_document(doc: dict) -> dict:
    """A page document in the shape bundles before the page document took (``{state, meta, buffers}``)."""
    [record] = doc["records"]
    return {"state": doc["state"], "meta": record["meta"], "buffers": record["buffers"]}


def document_for(static: Path, doc: dict) -> dict:
    """``doc`` in the shape the ``standalone.js`` in ``static`` reads: bundles with the page document export
    ``recordFromDoc``, the ones before it ``payloadFromDoc`` (and read ``{state, meta, buffers}``)."""
    code = (static / "standalone.js").read_text(encoding="utf-8")
    if "recordFromDoc" in code:
        return doc
    if "payloadFromDoc" in code:
        return legacy_document(doc)
    raise ValueError(f"{static / 'standalone.js'} is no tam-widgets bundle this benchmark knows "
                     "(it exports neither recordFromDoc nor payloadFromDoc)")


def build_ref(ref: str, folder: Path) -> Path:
    """Build the front-end bundle of git ``ref`` under ``folder`` and return its ``tam_widgets/static``.

    ``js/`` of that commit comes from ``git archive`` (the repository and its worktrees are not touched) and
    is built with this checkout's ``js/node_modules`` (linked, not installed). Raises RuntimeError saying
    what is missing when git, the ref, node or the modules are not there.
    """
    modules = REPO / "js" / "node_modules"
    if not modules.is_dir():
        raise RuntimeError(f"no {modules}: run `make js` (npm install in js/) first")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: the baseline bundle is built with Node.js >= 18")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "js"],
                             capture_output=True)  # fmt: skip
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {ref} js failed: {archive.stderr.decode(errors='replace').strip()}")
    root = folder / "baseline"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # the "data" filter (no links out, no devices) where this Python has it (3.10.12+, 3.11.4+)
        tar.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    os.symlink(modules.resolve(), root / "js" / "node_modules")
    done = subprocess.run([node, "build.mjs"], cwd=root / "js", capture_output=True, text=True)
    static = root / "tam_widgets" / "static"
    if done.returncode != 0 or not (static / "standalone.js").is_file():
        raise RuntimeError(f"building the bundle of {ref} failed:\n{done.stdout}{done.stderr}")
    return static


def write_pages(records: dict, folder: Path, baseline: Path | None) -> dict[tuple[str, str], str]:
    """The same page of every case with the bundle built here (``"this"``) and, given ``baseline``, with
    that one (``"base"``)."""
    pages = {}
    for k, (name, exp) in enumerate(records.items()):
        doc = page_document("token_map", [exp])
        pages[name, "this"] = write_page(doc, folder / f"{k}.html", title=name).as_uri()
        if baseline is not None:
            old = folder / f"{k}-baseline.html"
            pages[name, "base"] = write_page(document_for(baseline, doc), old, title=name, static=baseline).as_uri()
    return pages


def first_render(browser, url: str) -> float:
    """First render (ms) of one fresh load of the page at ``url``."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=30_000)
    first = page.evaluate("window.__tamPerf.firstRender")
    page.close()
    return first


def measure(browser, url: str, hovers: int, pattern: str, seed: int = 0) -> tuple[float, list[float]]:
    """First render and hover repaint times (ms) of the page at ``url`` under one pointer ``pattern``.

    Each sampled token is scrolled into view first, outside the measurement; every repaint the page
    records counts (a sweep also repaints the words it crosses, at most once per frame).
    """
    steps, (p0, p1), use_hover = PATTERNS[pattern]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=30_000)
    first = page.evaluate("window.__tamPerf.firstRender")
    tokens = page.locator(".tam-tok.tam-explained")
    n = tokens.count()
    rng = np.random.default_rng(seed)
    page.mouse.move(1, 1)
    page.evaluate("window.__tamPerf.repaint.length = 0")
    for k in rng.permutation(n)[: min(hovers, n)]:
        if use_hover:
            tokens.nth(int(k)).hover()
            continue
        x, y = page.evaluate(CENTRE, int(k))
        page.wait_for_timeout(int(rng.integers(p0, p1)))
        page.mouse.move(x, y, steps=steps)
    page.wait_for_timeout(100)
    repaint = page.evaluate("window.__tamPerf.repaint")
    page.close()
    return first, repaint


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hovers", type=int, default=150, help="tokens hovered per case (default 150)")
    base = ap.add_mutually_exclusive_group()
    base.add_argument("--baseline-ref", default=None,
                      help="git ref whose front-end bundle is built (temp folder) and timed side by side")
    base.add_argument("--baseline-static", type=Path, default=None,
                      help="folder of another build's widget.css + standalone.js to time side by side")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every page this many times (bundle order alternating), samples pooled")
    ap.add_argument("--loads", type=int, default=1,
                    help="fresh loads per page and round for the first render (default 1: the measured page's)")
    args = ap.parse_args(argv)
    for name in ("hovers", "rounds", "loads"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if args.baseline_static is not None and not (args.baseline_static / "standalone.js").is_file():
        print(f"no standalone.js in {args.baseline_static}", file=sys.stderr)
        return 2
    problem = browser_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        baseline = args.baseline_static
        if args.baseline_ref is not None:
            try:
                baseline = build_ref(args.baseline_ref, Path(tmp))
            except RuntimeError as e:
                print(e, file=sys.stderr)
                return 2
            print(f"baseline: the bundle of {args.baseline_ref} (built in {baseline})")
        try:
            records = cases()
            pages = write_pages(records, Path(tmp), baseline)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        with launch() as browser:
            ok = run(browser, Path(tmp), records, pages, args)
    print(f"targets (pointer lands on a word): median <= {TARGETS['median']:.0f} ms, p95 <= {TARGETS['p95']:.0f} ms, "
          f"first render <= {TARGETS['first']:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


def run(browser, tmp: Path, records: dict, pages: dict, args: argparse.Namespace) -> bool:
    """Time every case's pages under every pointer pattern and print the table; False if a target is missed."""
    ok = True
    floor_html = tmp / "floor.html"
    floor_html.write_text(FLOOR_PAGE)
    baselines = {
        name: python_baseline(exp, list(range(0, exp.explained.size, max(1, exp.explained.size // 20))))
        for name, exp in records.items()
    }
    print(f"{'pointer':8} {'bundle':6} {'case':34} {'first render':>13} {'median':>8} {'p95':>8} {'n':>5} "
          f"{'over floor':>11} {'python render':>14} {'ratio':>7}")
    for pattern in PATTERNS:
        floor = statistics.median(measure(browser, floor_html.as_uri(), args.hovers, pattern)[1])
        print(f"{pattern:8} {'':6} {'floor: a handler that draws nothing':34} {'':>13} {floor:5.1f} ms")
        for name in records:
            bundles = [b for b in ("this", "base") if (name, b) in pages]
            firsts: dict[str, list[float]] = {b: [] for b in bundles}
            reps: dict[str, list[float]] = {b: [] for b in bundles}
            for k in range(args.rounds):
                for bundle in bundles if k % 2 == 0 else bundles[::-1]:
                    first, rep = measure(browser, pages[name, bundle], args.hovers, pattern, seed=k)
                    firsts[bundle] += [first] + [first_render(browser, pages[name, bundle])
                                                 for _ in range(args.loads - 1)]
                    reps[bundle].extend(rep)
            for bundle in bundles:
                ok &= report(pattern, bundle, name, statistics.median(firsts[bundle]), reps[bundle], floor,
                             baselines[name])
    return ok


def report(pattern: str, bundle: str, name: str, first: float, rep: list[float], floor: float, base: float) -> bool:
    """Print one row of the table; False when the page recorded nothing or missed a target."""
    if not rep:
        print(f"{name} ({bundle} bundle): the page recorded no repaint", file=sys.stderr)
        return False
    med, p95 = statistics.median(rep), float(np.percentile(rep, 95))
    print(f"{pattern:8} {bundle:6} {name:34} {first:10.0f} ms {med:5.1f} ms {p95:5.1f} ms {len(rep):5d} "
          f"{med - floor:+8.1f} ms {base:11.1f} ms {base / med:6.1f}x")
    if pattern == "lands" and bundle == "this":
        return med <= TARGETS["median"] and p95 <= TARGETS["p95"] and first <= TARGETS["first"]
    return True


if __name__ == "__main__":
    sys.exit(main())
