"""The README's screenshots: every view of the demo site, and the explorer in JupyterLab's light and dark themes.

``demo``: builds the demo site (:func:`tam_widgets.demo.build_site`) in a temporary folder and photographs
each view's page in headless chromium (:func:`tam_widgets.testing.browser.demo_screenshots`):
``docs/demo_explorer.png``, ``demo_compare.png``, ``demo_timeline.png``, ``demo_board.png``.

``lab``: starts a throwaway JupyterLab (:class:`tam_widgets.testing.jupyter.JupyterLab`), runs the code cells of
``notebooks/01_quickstart.ipynb`` up to its explorer, with a tiny random Qwen2-VL on a shipped photo injected
as its parameters (its untrained-model warning shows), pins an answer token and photographs the explorer's
cell in headless chromium, once per theme.
Each PNG must stay under 200 KB (:func:`small_png`).

    python docs/screenshots.py            # both
    python docs/screenshots.py demo --out /tmp/shots
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's tam_widgets (the kernel gets it through the harness too)

from tam_widgets.testing.browser import demo_screenshots, launch  # noqa: E402
from tam_widgets.testing.jupyter import JupyterLab  # noqa: E402
from tam_widgets.testing.notebooks import inject_parameters  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"
THEMES = {"light": ("JupyterLab Light", "true"), "dark": ("JupyterLab Dark", "false")}
MAX_BYTES = 200_000


def small_png(png: bytes) -> bytes:
    """``png`` re-encoded to stay under :data:`MAX_BYTES`: full colour when it fits, else 64 levels per
    channel (rounded: black and white stay exact, gradients stay smooth), else 32 levels, else 64 levels
    at 3/4 of the size."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    smaller = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    for picture, levels in ((image, 256), (image, 64), (image, 32), (smaller, 64)):
        lut = [round(round(v * (levels - 1) / 255) * 255 / (levels - 1)) for v in range(256)]
        out = io.BytesIO()
        picture.point(lut * 3).save(out, format="png", optimize=True)
        if out.tell() <= MAX_BYTES:
            break
    return out.getvalue()


def demo_shots(out: Path) -> list[Path]:
    """The demo site's views, one PNG each (under :data:`MAX_BYTES`)."""
    from tam_widgets.demo import build_site

    with tempfile.TemporaryDirectory(prefix="tam-demo-") as tmp, launch() as browser:
        build_site(tmp, families=[])  # the shots show the synthetic scene
        written = list(demo_screenshots(browser, tmp, out, post=small_png).values())
    for path in written:
        print(f"{path}: {path.stat().st_size / 1000:.0f} KB")
        if path.stat().st_size > MAX_BYTES:
            raise RuntimeError(f"{path} is over {MAX_BYTES} bytes: shrink the view")
    return written


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["demo", "lab", "all"], default="all")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = demo_shots(args.out) if args.what in ("demo", "all") else []
    if args.what in ("lab", "all"):
        written += lab_shots(args.out)
    return written


def lab_shots(out: Path) -> list[Path]:
    """The explorer of ``notebooks/01_quickstart.ipynb`` in JupyterLab, light and dark."""
    from tam_widgets.testing import tiny_model

    written = []
    with tempfile.TemporaryDirectory(prefix="tam-shots-") as tmp, launch() as browser:
        params = {"MODEL": str(tiny_model("qwen2_vl")), "IMAGE": "chelsea", "PROMPT": "What animal is this?",
                  "MAX_NEW_TOKENS": 6, "OUT": str(Path(tmp) / "out")}
        code = [c for c in inject_parameters(nbformat.read(NOTEBOOK, as_version=4), params).cells
                if c.cell_type == "code"]
        code = code[: next(k for k, c in enumerate(code) if "tw.TokenMapView(exp)" in c.source) + 1]
        quiet = "from transformers.utils import logging\nlogging.disable_progress_bar()  # no loading bar in the shot"
        cells = [nbformat.v4.new_code_cell(quiet)] + [nbformat.v4.new_code_cell(c.source) for c in code]
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nbformat.write(nb, Path(tmp) / "explorer.ipynb")
        with JupyterLab(tmp) as lab:
            page = browser.new_context(viewport={"width": 1000, "height": 1100}, device_scale_factor=1).new_page()
            page.set_default_timeout(120_000)
            lab.open_notebook(page, "explorer.ipynb")
            page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
            lab.run_all(page, timeout=300)
            view = page.locator(".tam-view").first
            view.locator(".tam-ro-stats").wait_for()
            with lab.kernel_client("explorer.ipynb") as kernel:
                # the answer token whose map stands out most from its median (the model is untrained)
                kernel.execute("import numpy as np\nm = np.asarray(exp.maps['tam'], np.float32)\n"
                               "view.selected = int(exp.explained[int(np.argmax(m.max(1) - np.median(m, 1)))])")
            view.locator(".tam-tok.tam-selected").wait_for()
            cell = page.locator(".jp-Cell").nth(len(cells) - 1)  # the explorer's cell
            for name, (theme, light) in THEMES.items():
                page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
                page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
                page.wait_for_timeout(800)  # the theme's stylesheet settles
                page.mouse.move(2, 2)
                png = small_png(cell.screenshot())
                if len(png) > MAX_BYTES:
                    raise RuntimeError(f"the {name} screenshot is {len(png)} bytes, over {MAX_BYTES}: shrink the view")
                path = out / f"explorer_{name}.png"
                path.write_bytes(png)
                written.append(path)
                print(f"{path}: {len(png) / 1000:.0f} KB")
    return written


if __name__ == "__main__":
    main()
