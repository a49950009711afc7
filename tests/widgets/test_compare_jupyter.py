"""The comparison in a real JupyterLab: rows fetched from the kernel per record, a click reaches the kernel, a word set
from Python reaches every column, and a kernel restart shows the banner."""

from __future__ import annotations

import nbformat

from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.jupyter import JupyterLab

CELL = """import tam_widgets as tw
from tam_widgets.testing.comparisons import model_records
exps = model_records([[" A", " black", " cat", "."], [" a", " bl", "ack", " ca", "t", "."], [" The", " cat", "."]])
view = tw.CompareView(exps, labels=["Qwen", "InternVL", "LLaVA"], max_inline_bytes=0)  # rows travel on request
view"""

ABSENT = """(m) => document.querySelector(`.tam-compare-col[data-model="${m}"]`).classList.contains('tam-absent')"""
ALPHA = """(m) => { const c = document.querySelector(`.tam-compare-col[data-model="${m}"] canvas.tam-heat`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] === 255; return n / (d.length / 4); }"""


def test_compare_view_in_jupyterlab(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)]), root / "cmp.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "cmp.ipynb")
            lab.run_all(page)
            view = page.locator(".tam-view.tam-compare").first
            view.wait_for(state="visible")
            kernel = lab.kernel_client("cmp.ipynb")
            # every column's map of the starting word came from the kernel (on demand, per record)
            page.wait_for_function(f"() => [0, 1, 2].every(m => ({ALPHA})(m) > 0.99)")
            assert kernel.eval("view.alignment.keys[view.word]") == "cat"

            # a click on InternVL's "ack" pins "black" in the kernel; LLaVA did not say it
            view.locator('.tam-compare-col[data-model="1"] .tam-tok[data-i="14"]').click()
            assert kernel.wait_for("view.alignment.keys[view.word]", "black") == "black"
            llava = view.locator('.tam-compare-col[data-model="2"]')
            page.wait_for_function(f"() => ({ABSENT})(2)")
            assert llava.locator(".tam-compare-word").inner_text().endswith("absent")
            page.screenshot(path=str(shots / "jupyter_compare.png"))

            # a word typed from Python reaches every column; the method too
            kernel.execute("view.find('cat'); view.method = 'cam'")
            page.wait_for_function(f"() => !({ABSENT})(2)")
            page.wait_for_function("() => document.querySelector('.tam-compare select.tam-method').value === 'cam'")
            page.wait_for_function(f"() => [0, 1, 2].every(m => ({ALPHA})(m) > 0.99)")

            page.evaluate("window.jupyterapp.commands.execute('notebook:restart-kernel')")
            banner = view.locator(".tam-disconnected-banner")
            banner.wait_for(timeout=30_000)
            assert banner.inner_text().startswith("kernel disconnected: showing what was loaded")
            assert view.locator("canvas.tam-heat").count() == 3  # the view stays
            page.screenshot(path=str(shots / "jupyter_compare_restarted.png"))
        except Exception as e:
            page.screenshot(path=str(shots / "jupyter_compare_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
