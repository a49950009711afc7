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
(:func:`~tam_widgets.widgets.timeline.timeline_payload`), which a live timeline pays for a turn's first token
and its end, and the time of one push while the turn is written: a whole record (as pushes were) against
what the token added (:func:`~tam_widgets.widgets.payload.append_payload`, as pushes are).

Live pushes in the page (same browser): the view of the conversation with its last turn being written gets
``--pushes`` pushes of one token each, as whole records (``_records`` set again: the page builds everything
again) and as ``append`` messages; a sample is the page's time to take the push and lay it out (the
handler plus a forced layout), with the page following the newest token. After the appends the page must
equal the whole final record built at once (same turns' HTML), which is checked.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tam_widgets.testing.browser import browser_problem, launch
from tam_widgets.testing.fake_chat import Turn, conversation_record
from tam_widgets.widgets.html import record_document
from tam_widgets.widgets.payload import append_payload
from tam_widgets.widgets.timeline import PUSH_INTERVAL, page, timeline_payload, to_html

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


SETUP = """(doc) => {
  document.body.textContent = "";
  const el = document.createElement("div"); document.body.appendChild(el);
  const model = TamWidgets.mount(el, doc);
  model.set("busy", true);  // a turn is being written: the page follows the newest token
  window.__live = {model, root: el.querySelector(".tam-timeline")};
}"""
PUSH = """async ([kind, item]) => {
  const {model, root} = window.__live;
  const b64 = (s) => { const t = atob(s); const u = new Uint8Array(t.length);
    for (let i = 0; i < t.length; i++) u[i] = t.charCodeAt(i); return new DataView(u.buffer); };
  const data = kind === "append" ? [item[0], item[1].map(b64)] : TamWidgets.recordFromDoc(item);
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const t = performance.now();
  if (kind === "append") model.emit("msg:custom", data[0], data[1]);
  else model.set("_records", [data]);
  void root.offsetHeight;  // lay the page out now: part of the push's cost
  return performance.now() - t;
}"""
FINISH = """async () => {
  const {model, root} = window.__live;
  model.set("busy", false);
  await new Promise((r) => setTimeout(r, 400));  // turns scrolled out of the list are recoloured when idle
  const turns = [...root.querySelectorAll(".tam-turn")].map((t) =>
    t.outerHTML.replace(/<div class="tam-hoverbox"[^>]*>/g, ""));
  return {turns, builds: root.dataset.builds, appends: root.dataset.appends ?? "0",
          resyncs: model.sent.filter((m) => m.type === "resync").length,
          why: model.sent.filter((m) => m.type === "resync").map((m) => m.why)};
}"""


def live_pushes(browser, turns: int, tokens: int, pushes: int) -> dict:
    """Page time per push of one token, as whole records and as appends (see the module docstring)."""
    opts = {"grid": (24, 32), "image_size": (336, 448), "methods": ("tam", "cam")}
    head = [Turn(f"Question number {t + 1} about the pictures?", tokens, images=1 if t in (0, 3, 6) else 0)
            for t in range(turns - 1)]
    last = f"Question number {turns} about the pictures?"
    records = [conversation_record([*head, Turn(last, tokens - pushes + k, closed=False)], **opts)
               for k in range(pushes + 1)]
    doc = page(records[0])
    doc["state"]["live"] = True
    doc["records"][0]["seq"] = 0
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = to_html(records[0], Path(tmp) / "live.html")
        tab = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
        tab.goto(path.as_uri())
        for kind in ("append", "whole"):
            tab.evaluate(SETUP, doc)
            times = []
            for k in range(pushes):
                if kind == "append":
                    a = append_payload(records[k], records[k + 1])
                    item = [{"type": "append", "record": "r0", "seq": k + 1, **a.meta},
                            [base64.b64encode(bytes(b)).decode() for b in a.buffers()]]
                else:
                    item = {**record_document("r0", records[k + 1]), "seq": k + 1}
                times.append(tab.evaluate(PUSH, [kind, item]))
            out[kind] = {"times": times, **tab.evaluate(FINISH)}
        tab.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--tokens", type=int, default=128, help="answer tokens per turn")
    ap.add_argument("--clicks", type=int, default=60)
    ap.add_argument("--loads", type=int, default=5, help="fresh page loads for the first render")
    ap.add_argument("--pushes", type=int, default=12, help="live pushes of one token each, per kind")
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
    print(f"kernel: one live push as a whole record (the record grew by a token; earlier rows and pictures "
          f"reused): median {statistics.median(grow):.1f} ms (pushes at most every {PUSH_INTERVAL * 1000:.0f} ms "
          "while a turn is written, the first token's at once)")
    small, big = conversation_record(before, **opts), conversation_record(after, **opts)
    adds = []
    for _ in range(5):
        t = time.perf_counter()
        append_payload(small, big)
        adds.append((time.perf_counter() - t) * 1000)
    print(f"kernel: the same push as what the token added (append): median {statistics.median(adds):.2f} ms")

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
            live = live_pushes(browser, args.turns, args.tokens, args.pushes) if args.pushes else None
    first = statistics.median(firsts)
    med = statistics.median(samples)
    p95 = float(np.percentile(samples, 95))
    ok_first, ok_med = first <= TARGETS["first"], med <= TARGETS["median"]
    print(f"first render: median {first:.0f} ms over {len(firsts)} loads (target <= {TARGETS['first']:.0f}) "
          f"{'ok' if ok_first else 'OVER'}")
    print(f"click-to-repaint: median {med:.1f} ms, p95 {p95:.1f} ms over {len(samples)} clicks "
          f"(target median <= {TARGETS['median']:.0f}) {'ok' if ok_med else 'OVER'}")
    ok_live = True
    if live is not None:
        a, w = live["append"], live["whole"]
        same = a["turns"] == w["turns"]
        ok_live = same and a["builds"] == "1" and a["resyncs"] == 0
        print(f"live push of one token in the page ({args.pushes} each, following the newest token): whole record "
              f"median {statistics.median(w['times']):.1f} ms (max {max(w['times']):.1f}), append median "
              f"{statistics.median(a['times']):.1f} ms (max {max(a['times']):.1f}); ratio "
              f"{statistics.median(w['times']) / max(statistics.median(a['times']), 1e-3):.0f}x")
        print(f"  after the appends: builds {a['builds']}, appends {a['appends']}, resyncs {a['resyncs']} {a['why']}; "
              f"the turns {'equal' if same else 'DIFFER FROM'} the whole record built at once")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok_first and ok_med and ok_live else 2


if __name__ == "__main__":
    sys.exit(main())
