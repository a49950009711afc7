"""Headless Chromium for browser tests: Debian's ``chromium`` driven by Python Playwright.

Playwright's own browser builds are never downloaded (no ``playwright install``): the system
Chromium is launched through ``executable_path``. Playwright gives each launch a fresh temporary
profile and removes it on close (it refuses a ``--user-data-dir`` argument to ``launch()``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = [
    "CHROMIUM_ARGS",
    "INSTALL_HINT",
    "DEMO_SHOTS",
    "artifacts_dir",
    "demo_screenshots",
    "browser_problem",
    "find_chromium",
    "launch",
    "open_offline",
    "require_browser",
]

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)

INSTALL_HINT = (
    "browser tests need Debian's chromium and the Python playwright package: "
    "`sudo apt-get install chromium` and `pip install playwright` (or `make browser`); "
    "set TAM_WIDGETS_CHROMIUM to use another Chromium binary. Never run `playwright install`."
)

_NAMES = ("chromium", "chromium-browser")


def find_chromium() -> str | None:
    """Path of the Chromium binary: ``$TAM_WIDGETS_CHROMIUM``, ``/usr/bin/chromium``, then PATH; None if absent."""
    env = os.environ.get("TAM_WIDGETS_CHROMIUM")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in _NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def browser_problem() -> str | None:
    """Why browser tests cannot run here (a message ending in INSTALL_HINT), or None when they can."""
    missing = []
    if find_chromium() is None:
        env = os.environ.get("TAM_WIDGETS_CHROMIUM")
        missing.append(f"chromium ({'TAM_WIDGETS_CHROMIUM=' + env + ' is not executable' if env else 'not found'})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    return f"missing {' and '.join(missing)}: {INSTALL_HINT}" if missing else None


def require_browser() -> None:
    """Skip the calling test when no browser is available, but fail it when ``$CI`` is ``true``/``1``."""
    import pytest

    problem = browser_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").strip().lower() in ("true", "1"):
        pytest.fail(f"CI requires the browser tests to run: {problem}", pytrace=False)
    pytest.skip(problem)


@contextmanager
def launch(**kw: Any) -> Iterator[Browser]:
    """Launch headless Chromium (sync Playwright API) and close it on exit.

    Keyword arguments go to ``BrowserType.launch``; ``args`` are appended to CHROMIUM_ARGS and
    ``executable_path`` defaults to :func:`find_chromium`. Raises RuntimeError with INSTALL_HINT
    when Chromium or Playwright is missing, or when Chromium does not start.
    """
    path = kw.pop("executable_path", None) or find_chromium()
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as e:
        raise RuntimeError(f"missing the playwright package: {INSTALL_HINT}") from e
    if path is None:
        raise RuntimeError(browser_problem() or f"chromium not found: {INSTALL_HINT}")
    args = [*CHROMIUM_ARGS, *kw.pop("args", ())]
    kw.setdefault("headless", True)
    with tempfile.TemporaryDirectory(prefix="tam-chromium-") as home, sync_playwright() as p:
        # Playwright's temp profile does not cover Chromium's crashpad database and dconf, which go
        # to ~/.config and ~/.cache: point the XDG dirs of the browser process at a temp dir too.
        env = {**os.environ, "XDG_CONFIG_HOME": f"{home}/config", "XDG_CACHE_HOME": f"{home}/cache"}
        env.update(kw.pop("env", None) or {})
        try:
            browser = p.chromium.launch(executable_path=path, args=args, env=env, **kw)
        except Error as e:
            raise RuntimeError(f"chromium at {path} did not start: {e.message}\n{INSTALL_HINT}") from e
        try:
            yield browser
        finally:
            browser.close()


def artifacts_dir(default: str | os.PathLike[str]) -> Path:
    """Where to save screenshots: ``$TAM_WIDGETS_ARTIFACTS`` if set, else ``default`` (created if missing)."""
    path = Path(os.environ.get("TAM_WIDGETS_ARTIFACTS") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


#: The demo pages the screenshots show (``tam-widgets demo``, the synthetic scene): view -> page file.
DEMO_SHOTS = {"explorer": "explorer.html", "compare": "compare.html", "timeline": "timeline.html",
              "board": "board.html"}


def open_offline(browser: Browser, url: str, viewport: tuple[int, int] = (1200, 900)):
    """Open ``url`` in a new page and return ``(page, problems)``: ``problems`` collects console errors, page
    errors and every request for anything but a ``file:``, ``data:`` or ``blob:`` URL (i.e. the network)."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
            else problems.append(f"request: {r.url}"))
    page.goto(url)
    return page, problems


def demo_screenshots(browser: Browser, site: str | os.PathLike[str], out: str | os.PathLike[str],
                     post: Any = None) -> dict[str, Path]:
    """Photograph each view of a demo site (``tam-widgets demo --out site``) into ``out/demo_<view>.png``.

    Each page opens as the demo wrote it (the explorer pins "circle", the board opens a failed case, ...);
    the shot is the view itself, once its maps are drawn. ``post(png_bytes) -> bytes`` may re-encode each
    picture (``docs/screenshots.py`` keeps them small). Raises RuntimeError naming the page when one logs an
    error or asks the network for anything.
    """
    site, out = Path(site), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for view, name in DEMO_SHOTS.items():
        page, problems = open_offline(browser, (site / name).resolve().as_uri())
        try:
            page.locator("canvas.tam-heat").first.wait_for()
            page.wait_for_timeout(600)  # the maps' bitmaps are decoded and drawn
            page.mouse.move(1, 1)
            png = page.locator("body > div").first.screenshot()
        finally:
            page.close()
        if problems:
            raise RuntimeError(f"{name}: {problems}")
        path = out / f"demo_{view}.png"
        path.write_bytes(post(png) if post is not None else png)
        written[view] = path
    return written
