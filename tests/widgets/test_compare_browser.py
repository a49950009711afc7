"""The comparison's offline page in real headless chromium: a word hovered in one column is shown in every column,
an absent word shows as absent, the typed word, the shared scale, and nothing breaks its CSP."""

from __future__ import annotations

import numpy as np
import pytest

import tam_widgets as tw
from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.comparisons import model_records
from tests.widgets.test_browser_html import CSP_WATCH, expected_heat

ANSWERS = [
    [" A", " black", " cat", " sits", " on", " the", " table", "."],
    [" a", " bl", "ack", " ca", "t", " on", " a", " table", "."],
    [" The", " cat", " is", " on", " the", " wooden", " table", "."],
]
LABELS = ["Qwen2-VL-2B", "InternVL3-1B", "<b>LLaVA</b>"]

HEAT = """(m) => {
  const c = document.querySelector(`.tam-compare-col[data-model="${m}"] canvas.tam-heat[data-grid="0"]`);
  return {w: c.width, h: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)};
}"""


def heat(page, m: int) -> np.ndarray:
    got = page.evaluate(HEAT, m)
    return np.array(got["data"], np.int16).reshape(got["h"], got["w"], 4)


def shows(page, m: int, exp, token: int | None, method: str = "tam") -> bool:
    """Whether column ``m`` shows the map of ``token`` (None: no map at all)."""
    rgba = heat(page, m)
    if token is None:
        return bool((rgba[..., 3] == 0).all())
    row = int(np.flatnonzero(exp.explained == token)[0])
    return bool(np.abs(rgba[..., :3] - expected_heat(exp, row, method)).mean() < 3 and (rgba[..., 3] == 255).all())


@pytest.fixture
def page(browser, tmp_path):
    exps = model_records(ANSWERS)
    view = tw.CompareView(exps, labels=LABELS)
    html = view.to_html(tmp_path / "cmp.html")
    pg = browser.new_page(viewport={"width": 1300, "height": 950})
    errors, requests = [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
    pg.add_init_script(CSP_WATCH)
    pg.goto(html.as_uri())
    pg.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
    yield pg, exps, view
    assert pg.evaluate("window.__csp") == [], "the page needed something its CSP blocks"
    assert not errors, errors
    assert all(u.startswith(("file:", "blob:", "data:")) for u in requests), requests
    pg.close()


def test_hovering_a_word_shows_it_in_every_column(page, tmp_path):
    pg, exps, view = page
    al = view.alignment
    shots = artifacts_dir(tmp_path)
    cat = al.find("cat")
    for m in range(3):  # starts on "cat", the first word every model said
        assert shows(pg, m, exps[m], al.tokens[cat][m])
    assert pg.locator('.tam-compare-col[data-model="2"] .tam-compare-label').inner_text() == "<b>LLaVA</b>"

    # hover "table" in the first column: every column shows its own "table" map
    table = al.find("table")
    pg.hover(f'.tam-compare-col[data-model="0"] .tam-tok[data-i="{al.tokens[table][0]}"]')
    for m in range(3):
        assert shows(pg, m, exps[m], al.tokens[table][m]), f"column {m} does not show 'table'"
    # hover the second token of InternVL's "bl|ack": the word "black", absent in LLaVA's answer
    black = al.find("black")
    pg.hover(f'.tam-compare-col[data-model="1"] .tam-tok[data-i="{al.ranges[black][1][0] + 1}"]')
    assert shows(pg, 0, exps[0], al.tokens[black][0]) and shows(pg, 1, exps[1], al.tokens[black][1])
    assert shows(pg, 2, exps[2], None)
    llava = pg.locator('.tam-compare-col[data-model="2"]')
    assert "tam-absent" in llava.get_attribute("class")
    assert llava.locator(".tam-compare-word").inner_text().endswith("absent")
    assert llava.locator(".tam-sum-word").inner_text() == "absent: this model did not say the word"
    pg.screenshot(path=str(shots / "compare_absent.png"))

    # leaving the strip returns every column to the pinned word; a click pins another
    pg.mouse.move(1290, 940)
    assert shows(pg, 2, exps[2], al.tokens[cat][2])
    wooden = al.find("wooden")
    pg.click(f'.tam-compare-col[data-model="2"] .tam-tok[data-i="{al.tokens[wooden][2]}"]')
    pg.mouse.move(1290, 940)
    assert shows(pg, 2, exps[2], al.tokens[wooden][2]) and shows(pg, 0, exps[0], None)
    assert pg.evaluate("window.__tamPerf.repaint.length") >= 3


def test_typed_word_method_and_shared_scale(page):
    pg, exps, view = page
    al = view.alignment
    box = pg.locator("input.tam-word-query")
    box.fill("TABLE")
    box.press("Enter")
    table = al.find("table")
    for m in range(3):
        assert shows(pg, m, exps[m], al.tokens[table][m])
    assert pg.locator(".tam-word-note").inner_text() == '"table": said by 3 of 3 models'
    box.fill("zebra")
    box.press("Enter")
    assert pg.locator(".tam-word-note").inner_text() == 'no model said "zebra"'
    assert shows(pg, 1, exps[1], al.tokens[table][1])

    pg.select_option("select.tam-method", "cam")
    for m in range(3):
        assert shows(pg, m, exps[m], al.tokens[table][m], "cam")
    # shared scale: every panel on one range; the hand-made maps span the same range, so the pictures stay
    pg.select_option("select.tam-scale", "shared")
    assert "one range for all models" in pg.locator(".tam-legend-text").first.inner_text()
    assert shows(pg, 0, exps[0], al.tokens[table][0], "cam")


def test_one_region_box_colours_every_strip(page):
    pg, exps, view = page
    stage = pg.locator('.tam-compare-col[data-model="1"] .tam-stage')
    box = stage.bounding_box()
    pg.mouse.move(box["x"] + 5, box["y"] + 5)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=5)
    pg.mouse.up()
    assert "tam-region-mode" in pg.locator(".tam-view").get_attribute("class")
    # the page's shares (tooltips, in %) are the kernel's for the same box, in every column
    canvas = pg.evaluate("""() => {
        const c = document.querySelector('.tam-compare-col[data-model="1"] canvas.tam-heat');
        const r = c.getBoundingClientRect(); return [c.width / r.width, r.x, r.y]; }""")
    scale, cx, cy = canvas
    region = [0, (box["x"] + 5 - cx) * scale, (box["y"] + 5 - cy) * scale,
              (box["x"] + box["width"] * 0.5 - cx) * scale, (box["y"] + box["height"] * 0.6 - cy) * scale]
    view.region = region
    for m, shares in enumerate(view.region_shares()):
        for tok, share in list(shares.items())[:4]:
            title = pg.locator(f'.tam-compare-col[data-model="{m}"] .tam-tok[data-i="{tok}"]').get_attribute("title")
            assert title.endswith("% of its map inside the region"), title
            assert abs(float(title.split("%")[0]) - share * 100) < 1.0, (m, tok, title, share)
    pg.keyboard.press("Escape")
    assert "tam-region-mode" not in pg.locator(".tam-view").get_attribute("class")


def video_records():
    """The same 4-frame video explained by a per-frame model (4 steps) and a Qwen-style one (2 steps of 2 frames)."""
    import dataclasses

    from tam_widgets.record import VisualGrid
    from tam_widgets.testing.records import synthetic_record

    words = [" a", " dog", " runs", "."]
    a = synthetic_record(words, frames=4, seed=0)
    a = dataclasses.replace(a, metadata={"model_id": "demo/per-frame", "untrained": True})
    g = a.grids[0]
    h, w = g.grid[-2:]
    b_src = synthetic_record(words, frames=2, seed=5)
    qwen = VisualGrid("video", "video 1", 0, (2, h, w), [0, 2], np.asarray(g.boxes)[[0, 2]])
    b = dataclasses.replace(b_src, images=a.images, grids=[qwen], metadata={"model_id": "demo/two-frame-steps"})
    return [a, b]


def frame_heat_matches(pg, m: int, exp, row: int, frame: int) -> bool:
    rgba = heat(pg, m)
    return bool(np.abs(rgba[..., :3] - expected_heat(exp, row, "tam", frame=frame)).mean() < 3)


def test_video_frames_follow_across_columns(browser, tmp_path):
    """A frame picked in one column shows the same moment in every column, though their video steps differ; play
    steps every column together; the starting frame comes from the view's ``frame``."""
    exps = video_records()
    view = tw.CompareView(exps, labels=["per-frame", "two-frame steps"], frame=2)
    assert view.frame == 2
    pg = browser.new_page(viewport={"width": 1300, "height": 950})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m_: errors.append(m_.text) if m_.type == "error" else None)
    pg.goto(view.to_html(tmp_path / "video.html").as_uri())
    pg.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
    shown = "(m) => document.querySelector(`.tam-compare-col[data-model=\"${m}\"] canvas.tam-heat`).dataset.frame"
    label = '.tam-compare-col[data-model="{}"] .tam-panel-label'
    row = int(np.flatnonzero(exps[0].explained == view.alignment.tokens[view.word][0])[0])

    # picture 2 is frame 3 of 4 for the first model and step 2 of 2 (pictures 2-3) for the second
    assert (pg.evaluate(shown, 0), pg.evaluate(shown, 1)) == ("2", "1")
    assert pg.locator(label.format(1)).inner_text().endswith("frame 2/2")
    assert frame_heat_matches(pg, 0, exps[0], row, 2) and frame_heat_matches(pg, 1, exps[1], row, 1)

    # a thumbnail clicked in the second column moves the first too
    pg.click('.tam-compare-col[data-model="1"] .tam-thumb[data-frame="0"]')
    assert (pg.evaluate(shown, 0), pg.evaluate(shown, 1)) == ("0", "0")
    assert frame_heat_matches(pg, 0, exps[0], row, 0) and frame_heat_matches(pg, 1, exps[1], row, 0)
    # picture 1 lies inside the second model's first step: it stays there while the first column moves
    pg.click('.tam-compare-col[data-model="0"] .tam-thumb[data-frame="1"]')
    assert (pg.evaluate(shown, 0), pg.evaluate(shown, 1)) == ("1", "0")
    assert "tam-current" in pg.locator('.tam-compare-col[data-model="1"] .tam-thumb[data-frame="0"]').get_attribute(
        "class")

    # play steps through every picture that starts a step somewhere, all columns together
    pg.click("button.tam-play")
    first_at_end = "() => document.querySelector('.tam-compare-col canvas.tam-heat').dataset.frame === '3'"
    pg.wait_for_function(first_at_end, timeout=5_000)
    assert pg.evaluate(shown, 1) == "1"
    pg.click("button.tam-play")
    artifacts = artifacts_dir(tmp_path)
    pg.screenshot(path=str(artifacts / "compare_video.png"))
    assert not errors, errors
    pg.close()
