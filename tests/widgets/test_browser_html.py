"""The static HTML export in real headless chromium: hover, click, keys, switches, region, video, PNG."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from matplotlib import colormaps

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


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def _open(exp, name="view", **view):
        html = exp.to_html(tmp_path / f"{name}.html", **view)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        errors, dialogs = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(html.as_uri())
        page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
        pages.append((page, errors, dialogs))
        return page

    yield _open
    for page, errors, dialogs in pages:
        assert not errors, f"page errors: {errors}"
        assert not dialogs, f"a token's text ran as script: {dialogs}"
        page.close()


def test_hover_click_keys_and_switches(open_page, tmp_path):
    exp = small_record()
    page = open_page(exp, "small")
    shots = artifacts_dir(tmp_path)
    assert_shows(page, exp, 0)  # the first answer token is pinned at start
    assert candidates(page)[0].startswith('" A"') and "0.70" in candidates(page)[0]

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
