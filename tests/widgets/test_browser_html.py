"""The static HTML export in real headless chromium: hover, click, keys, switches, region, video, PNG,
what the page says about its colours and its record, and its Content-Security-Policy."""

from __future__ import annotations

import dataclasses
import io

import cv2
import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from tam_widgets.record import format_prob, legend_text, provenance
from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.records import small_record, synthetic_record
from tam_widgets.widgets.payload import quantize

HEAT = """([grid, frame]) => {
  const c = document.querySelector(`canvas.tam-heat[data-grid="${grid}"][data-frame="${frame}"]`);
  if (!c) return null;
  return {w: c.width, h: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)};
}"""


def expected_heat(exp, row: int, method: str = "tam", cmap: str = "jet", grid: int = 0, frame: int = 0) -> np.ndarray:
    """The colour-mapped, bilinearly upsampled map of ``row`` over its box (RGB), as the page should draw it."""
    g = exp.grids[grid]
    h, w = g.grid[-2:]
    start = g.offset + frame * h * w
    u8 = quantize(exp.maps[method])[0][row, start : start + h * w].reshape(h, w)
    x0, y0, x1, y1 = (int(round(float(v))) for v in g.boxes[frame])
    up = cv2.resize(u8.astype(np.float32) / 255, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return (colormaps[cmap](np.clip(up, 0, 1))[..., :3] * 255).round().astype(np.int16)


def heat(page, grid: int = 0, frame: int = 0) -> np.ndarray:
    got = page.evaluate(HEAT, [grid, frame])
    assert got is not None, f"no heat canvas for grid {grid} frame {frame}"
    return np.array(got["data"], np.int16).reshape(got["h"], got["w"], 4)


def assert_shows(page, exp, row, method="tam", cmap="jet", grid=0, frame=0):
    rgba = heat(page, grid, frame)
    assert (rgba[..., 3] == 255).all()  # the grid's box is the whole picture in these records
    want = expected_heat(exp, row, method, cmap, grid, frame)
    diff = np.abs(rgba[..., :3] - want).mean()
    assert diff < 3.0, f"heat canvas differs from row {row} ({method}, {cmap}) by {diff:.2f} on average"
    others = [r for r in range(max(0, row - 4), min(exp.explained.size, row + 5)) if r != row]
    if others:  # and it is not just any map
        nearest = min(np.abs(rgba[..., :3] - expected_heat(exp, r, method, cmap, grid, frame)).mean() for r in others)
        assert nearest > 3 * diff + 2


def candidates(page) -> list[str]:
    return [t.strip() for t in page.locator(".tam-cands li").all_inner_texts()]


# Installed before the page's own scripts: every Content-Security-Policy violation lands in window.__csp.
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || '')));"""


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def _open(exp, name="view", **view):
        html = exp.to_html(tmp_path / f"{name}.html", **view)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        errors, dialogs, requests = [], [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        # console errors count, except chromium's CSP reports: window.__csp checks those (some tests expect one)
        page.on("console", lambda m: errors.append(m.text)
                if m.type == "error" and "Content Security Policy" not in m.text else None)
        page.on("request", lambda r: requests.append(r.url))
        page.add_init_script(CSP_WATCH)
        page.goto(html.as_uri())
        page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
        pages.append((page, errors, dialogs, requests))
        return page

    yield _open
    for page, errors, dialogs, requests in pages:
        # the whole page works under its CSP: nothing was blocked, nothing left the file
        assert page.evaluate("window.__csp") == [], "the page needed something its CSP blocks"
        assert not errors, f"page errors: {errors}"
        assert not dialogs, f"a token's text ran as script: {dialogs}"
        assert all(u.startswith(("file:", "blob:", "data:")) for u in requests), requests
        page.close()


def test_hover_click_keys_and_switches(open_page, tmp_path):
    exp = small_record()
    page = open_page(exp, "small")
    shots = artifacts_dir(tmp_path)
    assert_shows(page, exp, 0)  # the first answer token is pinned at start
    assert candidates(page) == ['" A" 70%', '" dog" 20%', '" <b>" 5%']

    # Hover previews the token (map and candidates); its text shows as text, not markup.
    script_tok = page.locator('.tam-tok[data-i="14"]')
    assert script_tok.inner_text().strip() == "<script>alert(1)</script>"
    script_tok.hover()
    assert_shows(page, exp, 2)
    assert candidates(page)[0].startswith('" <script>alert(1)</script>"')
    page.screenshot(path=str(shots / "html_hover.png"))

    # Click pins; leaving the strip returns to the pinned token.
    page.locator('.tam-tok[data-i="13"]').click()
    page.mouse.move(1270, 890)
    assert_shows(page, exp, 1)
    assert page.locator(".tam-tok.tam-selected").get_attribute("data-i") == "13"
    assert "tam-later" in page.locator('.tam-tok[data-i="15"]').get_attribute("class")
    readout = page.locator(".tam-readout").inner_text()
    assert "peak 1" in readout and "image 1" in readout and "Otsu" in readout

    # Keys move among explained tokens.
    page.locator(".tam-view").focus()
    page.keyboard.press("ArrowRight")
    assert_shows(page, exp, 2)
    page.keyboard.press("End")
    assert_shows(page, exp, 3)
    page.keyboard.press("Home")
    assert_shows(page, exp, 0)
    page.keyboard.press("ArrowLeft")  # already first: stays
    assert page.locator(".tam-tok.tam-selected").get_attribute("data-i") == "12"

    # Colormap and method switches repaint with the other table / the other map.
    page.select_option("select.tam-cmap", "viridis")
    assert_shows(page, exp, 0, cmap="viridis")
    page.select_option("select.tam-method", "cam")
    assert_shows(page, exp, 0, method="cam", cmap="viridis")
    assert "peak 4" in page.locator(".tam-readout").inner_text()  # CAM's own units (5 * 1.0 - 1)
    page.locator("input.tam-opacity").fill("0.2")
    assert page.evaluate("getComputedStyle(document.querySelector('canvas.tam-heat')).opacity") == "0.2"

    # Specials are hidden until asked for.
    special = page.locator('.tam-tok[data-i="0"]')
    assert not special.is_visible()
    page.locator("input.tam-specials").check()
    assert special.is_visible() and special.inner_text() == "<|im_start|>"
    page.screenshot(path=str(shots / "html_cam_viridis.png"))

    # Save as PNG downloads a picture.
    with page.expect_download() as dl:
        page.locator("button.tam-save").click()
    path = dl.value.path()
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_region_drag_recolours_tokens(open_page, tmp_path):
    exp = synthetic_record(["a", "b", "c", "d"], grid=(4, 4), image_size=(200, 200))
    page = open_page(exp, "region")
    hot = {r: divmod(int(np.argmax(exp.maps["tam"][r].astype(np.float32))), 4) for r in range(4)}
    target = 1  # drag a box around row 1's hot cell
    cy, cx = hot[target]
    canvas = page.locator("canvas.tam-heat").first
    box = canvas.bounding_box()
    sx, sy = box["width"] / 200, box["height"] / 200
    x0, y0 = box["x"] + (cx * 50 + 2) * sx, box["y"] + (cy * 50 + 2) * sy
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 20 * sx, y0 + 20 * sy, steps=4)
    page.mouse.move(x0 + 46 * sx, y0 + 46 * sy, steps=4)
    page.mouse.up()
    root = page.locator(".tam-view")
    assert "tam-region-mode" in root.get_attribute("class")
    page.screenshot(path=str(artifacts_dir(tmp_path) / "html_region.png"))
    # The token whose map peaks inside the box is coloured most strongly (farthest from white).
    strength = page.evaluate("""() => Array.from(document.querySelectorAll('.tam-tok.tam-explained')).map(e => {
        const m = getComputedStyle(e).backgroundColor.match(/[\\d.]+/g).map(Number);
        const a = m.length > 3 ? m[3] : 1;
        return a * (765 - m[0] - m[1] - m[2]); })""")
    assert int(np.argmax(strength)) == target, strength
    page.keyboard.press("Escape")
    assert "tam-region-mode" not in root.get_attribute("class")


def test_several_images_and_video(open_page, tmp_path):
    exp = synthetic_record(["x", "y"], grid=(3, 4), image_size=(60, 80), n_images=2)
    page = open_page(exp, "two")
    assert page.locator("canvas.tam-heat").count() == 2
    for gi in range(2):
        assert_shows(page, exp, 0, grid=gi)
    assert page.locator(".tam-view").inner_text().count("image 2") >= 1

    video = synthetic_record(["x", "y", "z"], grid=(3, 4), image_size=(60, 80), frames=4)
    page = open_page(video, "video")
    assert page.locator(".tam-frames .tam-thumb").count() == 4
    assert_shows(page, video, 0, frame=0)
    page.locator(".tam-frames .tam-thumb").nth(2).click()
    page.wait_for_selector('canvas.tam-heat[data-frame="2"]')
    assert_shows(page, video, 0, frame=2)
    page.locator('.tam-tok[data-i="13"]').click()
    assert_shows(page, video, 1, frame=2)
    page.locator("button.tam-play").click()
    page.wait_for_selector('canvas.tam-heat[data-frame="3"]', timeout=3000)
    page.locator("button.tam-play").click()  # pause
    page.screenshot(path=str(artifacts_dir(tmp_path) / "html_video.png"))


def test_thousands_of_tokens_open(open_page):
    exp = synthetic_record(3000, grid=(24, 32), image_size=(336, 448))
    page = open_page(exp, "large")
    assert page.locator(".tam-tok.tam-explained").count() == 3000
    last = page.locator('.tam-tok.tam-explained[data-i="3011"]')
    last.scroll_into_view_if_needed()
    last.click()
    assert_shows(page, exp, 2999)
    page.mouse.move(1270, 890)  # off the strip: Home scrolls it, and a pointer left over it would preview
    page.locator(".tam-view").focus()
    page.keyboard.press("Home")
    assert_shows(page, exp, 0)


def odd_record():
    """An untrained model's record with an empty token, a byte-fragment token and byte-fragment candidates."""
    exp = synthetic_record([" A", " cat", "", " caf", "", " here"])
    exp.tokens[14] = dataclasses.replace(exp.tokens[14], text="")  # explained row 2: no text at all
    exp.tokens[16] = dataclasses.replace(exp.tokens[16], text="\ufffd", raw_bytes=b"\xc3")  # row 4: a byte
    exp.candidate_ids[4] = [exp.tokens[16].id, 9001, 9002]
    exp.candidate_texts[4] = ["\ufffd", "\ufffd", " dog"]
    exp.candidate_probs[4] = [0.4123, 0.00042, 1e-7]
    exp.metadata["untrained"] = True
    return exp


def legend(page) -> dict:
    return page.evaluate("""() => {
      const c = document.querySelector('.tam-legend canvas.tam-legend-bar');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const q = s => document.querySelector(s).textContent;
      return {lo: q('.tam-legend-lo'), hi: q('.tam-legend-hi'), text: q('.tam-legend-text'),
              rgb: Array.from(d).filter((_, k) => k % 4 < 3), shown: c.getBoundingClientRect().width};
    }""")


def lut(cmap: str) -> np.ndarray:
    return (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).round()


def test_page_says_what_it_shows(open_page, tmp_path):
    exp = odd_record()
    page = open_page(exp, "odd")
    shots = artifacts_dir(tmp_path)

    # The untrained warning: on top, in full, not covering the controls.
    banner = page.locator(".tam-warning")
    assert banner.is_visible() and provenance(exp.metadata) in banner.inner_text()
    bb, bar = banner.bounding_box(), page.locator(".tam-bar").bounding_box()
    assert bb["y"] + bb["height"] <= bar["y"] and bb["height"] < 60

    # The colour legend: the current colormap from 0 to 1, with the method's units.
    leg = legend(page)
    assert (leg["lo"], leg["hi"]) == ("0", "1") and leg["text"] == legend_text("tam") and leg["shown"] >= 100
    got = np.array(leg["rgb"], float).reshape(-1, 3)
    assert np.abs(got - lut("jet")).max() <= 2
    page.select_option("select.tam-cmap", "viridis")
    assert np.abs(np.array(legend(page)["rgb"], float).reshape(-1, 3) - lut("viridis")).max() <= 2
    page.select_option("select.tam-method", "cam")  # CAM: on its own scale, said so
    leg = legend(page)
    row = exp.maps["cam"][0].astype(np.float32)  # the pinned token's CAM, min-max scaled for display
    assert (leg["lo"], leg["hi"]) == (f"{row.min():.3g}", f"{row.max():.3g}") == ("-0.747", "4")
    assert leg["text"].startswith(legend_text("cam")) and "stretched over this token's range" in leg["text"]
    title = page.locator(".tam-readout .tam-ro-stats").get_attribute("title")
    assert "own units" in title and "not across methods" in title and "Otsu's threshold" in title
    page.screenshot(path=str(shots / "odd_cam.png"))
    page.select_option("select.tam-method", "tam")

    # The strip's key says what the word colours are.
    key = page.locator(".tam-note")
    assert key.is_visible() and "text relevance" in key.inner_text()

    # An empty token and a byte fragment: visible, clickable, named readably; candidates in percent.
    empty, byte = page.locator('.tam-tok[data-i="14"]'), page.locator('.tam-tok[data-i="16"]')
    assert empty.inner_text() == "\u2205" and empty.bounding_box()["width"] >= 10
    empty.click()
    assert page.locator(".tam-tok.tam-selected").get_attribute("data-i") == "14"
    assert page.locator(".tam-readout .tam-ro-tok").inner_text() == "\u2205 (empty)"
    assert byte.inner_text() == "<0xC3>"
    byte.click()
    page.mouse.move(1270, 890)
    assert_shows(page, exp, 4, cmap="viridis")
    assert page.locator(".tam-readout .tam-ro-tok").inner_text() == "<0xC3>"
    # the chosen candidate is the byte token itself: its bytes; an unknown fragment: its id
    assert candidates(page) == ["<0xC3> 41.2%", "<id 9001> 0.042%", f'" dog" {format_prob(1e-7)}']
    assert page.locator(".tam-cands li").first.get_attribute("class") == "tam-cand-chosen tam-cand-bytes"
    page.screenshot(path=str(shots / "odd_untrained.png"))

    # The saved PNG carries the warning band on top and the colour bar under the picture.
    with page.expect_download() as dl:
        page.locator("button.tam-save").click()
    png = np.asarray(Image.open(io.BytesIO(open(dl.value.path(), "rb").read())).convert("RGB")).astype(int)
    Image.fromarray(png.astype(np.uint8)).save(shots / "odd_saved.png")
    yellow = (np.abs(png - [255, 244, 206]).sum(-1) < 8).mean(1)
    band = np.flatnonzero(yellow > 0.5)
    assert band.size >= 18 and band.max() < 0.3 * png.shape[0], "no warning band at the top of the PNG"
    assert colour_bar_rows(png[int(0.7 * png.shape[0]) :], lut("viridis")) > 8, "no colour bar under the picture"


def colour_bar_rows(img: np.ndarray, table: np.ndarray) -> int:
    """How many rows of ``img`` hold a left-to-right run (>= 150 px) through the whole colour table."""
    dist = np.abs(img[:, :, None, :] - table[None, None]).sum(-1)
    near, idx = dist.min(-1) <= 12, dist.argmin(-1)
    rows = 0
    for r in range(img.shape[0]):
        xs = np.flatnonzero(near[r])
        run = xs.size >= 150 and xs[-1] - xs[0] < 1.2 * xs.size
        if run and idx[r, xs[:5]].max() < 25 and idx[r, xs[-5:]].min() > 230:
            rows += 1
    return rows


def test_region_mode_key(open_page):
    exp = synthetic_record(["a", "b", "c"], grid=(4, 4), image_size=(200, 200))
    page = open_page(exp, "key")
    box = page.locator("canvas.tam-heat").first.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 90, box["y"] + 90, steps=4)
    page.mouse.up()
    assert "share of each token's map inside the box" in page.locator(".tam-note").inner_text()
    page.keyboard.press("Escape")
    assert "text relevance" in page.locator(".tam-note").inner_text()


def test_csp_blocks_the_network_and_kernel_errors_show(open_page):
    page = open_page(small_record(), "csp")
    outcome = page.evaluate("""() => fetch('https://example.com/tam.json').then(() => 'fetched', e => 'blocked')""")
    assert outcome == "blocked"
    assert page.evaluate("window.__csp") == ["connect-src https://example.com/tam.json"]
    page.evaluate("window.__csp.length = 0")  # that one was expected
    # A reply the kernel sends when it refused a message is shown in the readout (a second view of the doc).
    shown = page.evaluate("""() => {
      const doc = JSON.parse(document.querySelector('script[type="application/json"]').textContent);
      const out = [];
      for (const msg of [{type: 'maps', method: 'tam', start: 0, stop: 1, error: 'bad maps request: nope'},
                         {type: 'error', error: 'a message to the kernel must be an object'}]) {
        const el = document.createElement('div');
        document.body.appendChild(el);
        const model = TamWidgets.mount(el, doc);
        model.emit('msg:custom', msg, []);
        out.push(el.querySelector('.tam-readout .tam-ro-err')?.textContent ?? null);
        model.destroy();
      }
      return out;
    }""")
    assert shown == [
        "bad maps request: nope", "the kernel refused a message: a message to the kernel must be an object"
    ]


def in_strip(page, i: int) -> bool:
    """Token ``i`` lies wholly inside the strip's visible box."""
    return page.evaluate("""(i) => {
      const t = document.querySelector(`.tam-tok[data-i="${i}"]`).getBoundingClientRect();
      const s = document.querySelector('.tam-strip').getBoundingClientRect();
      return t.height > 0 && t.top >= s.top && t.bottom <= s.bottom;
    }""", i)


def test_placeholders_for_empty_and_blank_tokens(open_page):
    exp = synthetic_record([" A", "", " ", "\t\t", " cat"])
    page = open_page(exp, "blank")
    for i, want_text, want_tip in [(13, "\u2205", "empty token (no text)"), (14, "\u2423", 'token text: " "'),
                                   (15, "\u2423\u2423", 'token text: "\\t\\t"')]:
        tok = page.locator(f'.tam-tok[data-i="{i}"]')
        assert tok.inner_text() == want_text and tok.get_attribute("title") == want_tip
        box = tok.bounding_box()
        assert box["width"] >= 10 and box["height"] >= 10, box  # visible, a real click target
        tok.click()
        assert page.locator(".tam-tok.tam-selected").get_attribute("data-i") == str(i)
        assert_shows(page, exp, i - 12)
    # the tooltip survives repaints
    page.locator('.tam-tok[data-i="12"]').click()
    assert page.locator('.tam-tok[data-i="14"]').get_attribute("title") == 'token text: " "'


def test_strip_reveals_the_pinned_token_in_every_mode(open_page):
    exp = synthetic_record(400)
    last = 12 + 399
    page = open_page(exp, "reveal", selected=last)
    assert in_strip(page, last)  # on first render
    page.locator("input.tam-specials").check()
    assert in_strip(page, last)  # the strip was rebuilt with the specials: still in view
    page.locator(".tam-view").focus()
    page.keyboard.press("Home")
    assert in_strip(page, 12)
    page.keyboard.press("End")
    assert in_strip(page, last)
    page.locator("input.tam-specials").uncheck()
    assert in_strip(page, last)
    # opened with the specials shown
    page2 = open_page(exp, "reveal_specials", selected=last, show_specials=True)
    assert in_strip(page2, last)


def test_long_title_and_region_note_never_move_the_picture(browser, tmp_path):
    exp = synthetic_record(["a", "b", "c"], grid=(4, 4), image_size=(200, 200))
    exp.metadata["model_id"] = "org/a-very-long-model-name-" + "x" * 300
    html = exp.to_html(tmp_path / "title.html")
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(html.as_uri())
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
    title = page.locator(".tam-title")
    assert title.get_attribute("title") == exp.metadata["model_id"]  # shown whole on hover
    bar, save = page.locator(".tam-bar").bounding_box(), page.locator("button.tam-save").bounding_box()
    assert bar["height"] <= save["height"] + 2, "the toolbar wrapped onto a second line"
    assert page.evaluate("(e => e.scrollWidth > e.clientWidth)(document.querySelector('.tam-title'))")  # cut
    page.set_viewport_size({"width": 640, "height": 900})  # narrow: the region note is longer than a line
    stage = page.locator(".tam-stage").first
    before = stage.bounding_box()
    note_before = page.locator(".tam-note").bounding_box()
    page.mouse.move(before["x"] + 10, before["y"] + 10)
    page.mouse.down()
    page.mouse.move(before["x"] + 90, before["y"] + 90, steps=4)
    during = stage.bounding_box()  # mid-drag: the box is drawn under the cursor
    page.mouse.up()
    assert "tam-region-mode" in page.locator(".tam-view").get_attribute("class")
    after = stage.bounding_box()
    assert page.locator(".tam-note").bounding_box()["height"] == note_before["height"]
    page.screenshot(path=str(artifacts_dir(tmp_path) / "html_region_narrow.png"))
    page.keyboard.press("Escape")
    cleared = stage.bounding_box()
    assert before == during == after == cleared, (before, during, after, cleared)
    page.close()


COLOURS = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const v = document.querySelector('.tam-view'), cs = getComputedStyle(v);
  const heated = Array.from(document.querySelectorAll('.tam-tok.tam-heated')).map(e => {
    const c = getComputedStyle(e); return [rgb(c.backgroundColor), rgb(c.color)]; });
  const muted = getComputedStyle(document.querySelector('.tam-legend-text')).color;
  return {bg: rgb(cs.backgroundColor), fg: rgb(cs.color), muted: rgb(muted), heated};
}"""


def contrast(a, b) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255)."""
    def lum(c):
        c = np.asarray(c, float) / 255
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_light_and_dark_themes(browser, tmp_path):
    exp = synthetic_record([" A", " cat", " on", " the", " mat"])
    html = exp.to_html(tmp_path / "theme.html", selected=16)
    shots = artifacts_dir(tmp_path)
    seen = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(viewport={"width": 900, "height": 700}, color_scheme=scheme)
        page.goto(html.as_uri())
        page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
        c = page.evaluate(COLOURS)
        assert (sum(c["bg"]) > 600) == (scheme == "light"), c["bg"]  # the page follows the system's scheme
        assert contrast(c["fg"], c["bg"]) >= 7 and contrast(c["muted"], c["bg"]) >= 4.5, c
        assert c["heated"] and all(contrast(bg, fg) >= 3 for bg, fg in c["heated"]), c["heated"]
        seen[scheme] = (heat(page), c["heated"])
        page.screenshot(path=str(shots / f"html_theme_{scheme}.png"))
        page.close()
    # the heat colours (map and words) are the same on both
    np.testing.assert_array_equal(seen["light"][0], seen["dark"][0])
    assert seen["light"][1] == seen["dark"][1]


PAGE_COLOURS = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const b = getComputedStyle(document.body);
  return {bg: rgb(b.backgroundColor), fg: rgb(b.color), scheme: getComputedStyle(document.documentElement).colorScheme};
}"""


def test_offline_page_is_dark_when_the_system_prefers_dark(browser, tmp_path):
    exp = synthetic_record([" A", " cat"], image_size=(60, 80))
    html = exp.to_html(tmp_path / "page.html")
    for scheme in ("light", "dark"):
        page = browser.new_page(viewport={"width": 900, "height": 700}, color_scheme=scheme)
        page.goto(html.as_uri())
        page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
        c = page.evaluate(PAGE_COLOURS)
        assert c["scheme"] == "light dark", c
        if scheme == "light":
            assert c["bg"] == [255, 255, 255], c  # as before: a white page
        else:
            assert sum(c["bg"]) < 150, c  # the body, not only the view, is dark
        assert contrast(c["fg"], c["bg"]) >= 7, c  # text on the page stays readable
        # what is painted around the view (the page's margin and below it) is that background
        shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), np.int16)
        for y, x in ((4, 4), (690, 450), (350, 895)):
            assert np.abs(shot[y, x] - c["bg"]).max() <= 2, (scheme, (y, x), shot[y, x], c["bg"])
        page.close()


BAR_BOXES = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const bar = document.querySelector('.tam-bar');
  return {bar: box(bar), view: box(document.querySelector('.tam-view')),
          items: Array.from(bar.children).map(e => [e.className, box(e)]),
          save: box(document.querySelector('button.tam-save'))};
}"""


def bar_rows(boxes) -> int:
    """How many lines the controls bar takes (items whose vertical spans do not overlap start a new one)."""
    rows: list[tuple[float, float]] = []
    for _, (_, top, _, bottom) in boxes["items"]:
        if not any(top < b and bottom > t for t, b in rows):
            rows.append((top, bottom))
    return len(rows)


def test_controls_bar_one_line_from_700px_and_wraps_without_overlap(browser, tmp_path):
    exp = synthetic_record([" A", " cat", " on", " the", " mat"], image_size=(120, 160))
    html = exp.to_html(tmp_path / "bar.html")
    page = browser.new_page(viewport={"width": 800, "height": 700})
    page.goto(html.as_uri())
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
    shots = artifacts_dir(tmp_path)
    # the longest method label is cut in the picker; its tooltip is the whole label
    page.select_option("select.tam-method", "filter_only")
    assert page.locator("select.tam-method").get_attribute("title") == "filter only (no ECI)"
    page.select_option("select.tam-method", "tam")
    for width, view_width in ((800, None), (760, None), (1000, 700)):
        page.set_viewport_size({"width": width, "height": 700})
        if view_width:  # a view exactly 700 px wide (a notebook's output area)
            page.evaluate(f"document.querySelector('.tam-view').style.width = '{view_width}px'")
        b = page.evaluate(BAR_BOXES)
        assert bar_rows(b) == 1, (width, view_width, b)
        assert b["save"][2] <= b["bar"][2] + 0.5 and b["save"][1] >= b["bar"][1] - 0.5, b  # save PNG inside, on it
        assert b["bar"][3] - b["bar"][1] <= 26, b
        clip = {"x": 0, "y": 0, "width": width, "height": 90}
        page.screenshot(path=str(shots / f"bar_{width}_{view_width}.png"), clip=clip)
    page.evaluate("document.querySelector('.tam-view').style.width = ''")
    for width in (680, 560, 420, 320):  # narrower: whole controls wrap, nothing overlaps or spills out
        page.set_viewport_size({"width": width, "height": 700})
        b = page.evaluate(BAR_BOXES)
        assert bar_rows(b) >= 2, (width, b)
        items = [box for _, box in b["items"]]
        for k, (l1, t1, r1, b1) in enumerate(items):
            assert l1 >= b["view"][0] and r1 <= b["view"][2], (width, b["items"][k], b["view"])
            for l2, t2, r2, b2 in items[k + 1:]:
                assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, (width, b["items"])
        assert abs(b["save"][2] - b["bar"][2]) <= 0.5, b  # save PNG stays at the right end
        page.screenshot(path=str(shots / f"bar_{width}.png"), clip={"x": 0, "y": 0, "width": width, "height": 140})
    page.close()
