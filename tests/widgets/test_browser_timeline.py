"""The chat timeline's offline page in headless chromium: every turn, maps per turn, pictures not yet there."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.fake_chat import Turn, conversation_record
from tam_widgets.widgets.timeline import to_html

HEAT = """(grid) => {
  const c = document.querySelector(`canvas.tam-heat[data-grid="${grid}"]`);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}"""
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.effectiveDirective));"""


def conversation():
    return conversation_record([
        Turn("Describe the image.", [" Two", " dogs", " <script>alert(1)</script>", " sofa"], images=1),
        Turn("Which dog is fatter?", [" The", " left", " one", "."], images=1),
        Turn("What colour is the chair?", [" Red", "."]),
    ], grid=(6, 8), image_size=(96, 128))


@pytest.fixture
def timeline_page(browser, tmp_path):
    opened = []

    def _open(exp, **view):
        path = to_html(exp, tmp_path / "timeline.html", **view)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors, dialogs = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.add_init_script(CSP_WATCH)
        page.goto(path.as_uri())
        page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
        opened.append((page, errors, dialogs))
        return page

    yield _open
    for page, errors, dialogs in opened:
        assert page.evaluate("window.__csp") == [] and not errors and not dialogs, (errors, dialogs)
        page.close()


def heat(page, grid: int) -> np.ndarray:
    return np.array(page.evaluate(HEAT, grid), np.int16).reshape(-1, 4)


def pinned(page, token: int) -> None:
    """Wait until ``token`` is the pinned one (its words are recoloured in the frame after the map's)."""
    page.locator(f'.tam-tok.tam-selected[data-i="{token}"]').wait_for(timeout=5_000)
    assert page.locator(".tam-tok.tam-selected").count() == 1


def tok(page, turn: int, k: int):
    """The k-th explained answer token of a turn."""
    return page.locator(f'.tam-turn[data-turn="{turn}"] .tam-turn-answer .tam-tok.tam-explained').nth(k)


def test_every_turn_shows_and_each_token_maps_what_it_could_see(timeline_page, tmp_path):
    exp = conversation()
    page = timeline_page(exp)
    shots = artifacts_dir(tmp_path)
    turns = page.locator(".tam-turn")
    assert turns.count() == 3
    assert [t.strip() for t in page.locator(".tam-turn-user .tam-strip").all_inner_texts()] == [
        "Describe the image.", "Which dog is fatter?", "What colour is the chair?"]
    assert "<script>alert(1)</script>" in page.locator(".tam-turn-answer .tam-strip").first.inner_text()
    # thumbnails sit in the turn that added the picture; every answer has its sparkline
    assert [page.locator(f'.tam-turn[data-turn="{t}"] canvas.tam-turn-thumb').count() for t in range(3)] == [1, 1, 0]
    assert page.locator(".tam-turn canvas.tam-spark").count() == 3
    assert page.locator(".tam-ask").count() == 0  # an offline page cannot ask

    # the first answer token (turn 1) sees image 1 only: image 2 is "not yet in the conversation"
    pinned(page, int(exp.explained[0]))
    later = page.locator('.tam-panel[data-grid="1"]')
    assert "tam-notyet" in later.get_attribute("class")
    assert later.locator(".tam-notyet-note").inner_text() == "not yet in the conversation"
    assert (heat(page, 1)[:, 3] == 0).all() and (heat(page, 0)[:, 3] == 255).all()
    before = heat(page, 0)
    page.screenshot(path=str(shots / "timeline_turn1.png"))

    # a token of turn 2 changes the map, and sees both pictures
    tok(page, 1, 1).click()
    pinned(page, int(exp.explained[5]))
    assert "tam-notyet" not in later.get_attribute("class")
    assert (heat(page, 1)[:, 3] == 255).all()
    assert np.abs(heat(page, 0) - before).mean() > 2
    # text relevance colours earlier turns' tokens too; later tokens are marked later
    first_turn = page.locator('.tam-turn[data-turn="0"] .tam-tok.tam-heated')
    assert first_turn.count() > 0
    assert "tam-later" in tok(page, 2, 0).get_attribute("class")
    page.screenshot(path=str(shots / "timeline_turn2.png"))

    # keys: left/right between tokens (across turns), up/down between turns
    page.locator(".tam-view").focus()
    page.keyboard.press("ArrowDown")
    pinned(page, int(exp.explained[9]))
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    pinned(page, int(exp.explained[1]))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    pinned(page, int(exp.explained[0]))
    page.keyboard.press("End")
    pinned(page, int(exp.explained[-1]))
    # the sparkline picks tokens too
    box = page.locator('.tam-turn[data-turn="0"] canvas.tam-spark').bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    pinned(page, int(exp.explained[0]))


def test_dark_system_theme_and_a_record_without_grid_turns(timeline_page, browser, tmp_path):
    from tam_widgets.testing.records import small_record

    page = timeline_page(small_record())  # an older record: one turn, its grid counts as turn 0
    assert page.locator(".tam-turn").count() == 1
    assert page.locator(".tam-panel.tam-notyet").count() == 0
    dark = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    dark.goto(to_html(conversation(), tmp_path / "dark.html").as_uri())
    dark.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
    bg = dark.evaluate("getComputedStyle(document.querySelector('.tam-turn-answer')).backgroundColor")
    rgb = [int(x) for x in bg[bg.index("(") + 1 : bg.index(")")].split(",")[:3]]
    assert sum(rgb) / 3 < 80, f"answers follow the dark theme, got {bg}"
    dark.screenshot(path=str(artifacts_dir(tmp_path) / "timeline_dark.png"))
    dark.close()
