"""Self-test of the browser harness: Debian's chromium through Playwright, canvas pixels, a screenshot."""

from __future__ import annotations

import pytest

from tam_widgets.testing.browser import CHROMIUM_ARGS, artifacts_dir, find_chromium

PAGE = """<!doctype html>
<html><body>
<canvas id="c" width="8" height="8"></canvas>
<button id="paint">paint</button>
<script>
  const ctx = document.getElementById("c").getContext("2d");
  ctx.fillStyle = "rgb(0, 0, 255)";
  ctx.fillRect(0, 0, 8, 8);
  document.getElementById("paint").addEventListener("click", () => {
    ctx.fillStyle = "rgb(255, 0, 0)";
    ctx.fillRect(0, 0, 4, 8);
  });
</script>
</body></html>"""

PIXELS = """() => {
  const d = document.getElementById("c").getContext("2d").getImageData(0, 0, 8, 8).data;
  return { left: Array.from(d.slice(0, 4)), right: Array.from(d.slice(4 * 7, 4 * 8)) };
}"""


def test_args_are_the_hardened_set():
    assert "--no-sandbox" in CHROMIUM_ARGS and "--disable-background-networking" in CHROMIUM_ARGS
    assert not any(a.startswith("--user-data-dir") for a in CHROMIUM_ARGS)


def test_find_chromium_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TAM_WIDGETS_CHROMIUM", str(tmp_path / "nope"))
    assert find_chromium() is None
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("TAM_WIDGETS_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)


def test_require_browser_fails_on_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    from tam_widgets.testing.browser import require_browser

    monkeypatch.setenv("TAM_WIDGETS_CHROMIUM", str(tmp_path / "nope"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="make browser"):
        require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_browser()


def test_canvas_click_and_screenshot(browser, tmp_path):
    page = browser.new_page(viewport={"width": 320, "height": 200})
    try:
        page.set_content(PAGE)
        before = page.evaluate(PIXELS)
        assert before["left"] == [0, 0, 255, 255] and before["right"] == [0, 0, 255, 255]
        page.click("#paint")
        after = page.evaluate(PIXELS)
        assert after["left"] == [255, 0, 0, 255] and after["right"] == [0, 0, 255, 255]
        shot = artifacts_dir(tmp_path) / "test_browser_canvas.png"
        page.screenshot(path=str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        page.close()
