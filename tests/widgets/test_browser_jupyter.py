"""The widget in a real JupyterLab: the shipped notebook runs, a click reaches the kernel and back."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np

from tam_widgets.record import legend_text
from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.jupyter import JupyterLab

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_token_map_explorer.ipynb"
# Appended to the shipped notebook: a second view that must fetch its maps from the kernel.
ON_DEMAND = "big = tw.TokenMapView(exp, max_inline_bytes=0)  # rows travel on request\nbig"
HEAT = """(n) => { const c = document.querySelectorAll('.tam-view')[n].querySelector('canvas.tam-heat');
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""


def test_notebook_view_syncs_with_the_kernel(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(ON_DEMAND))
    nb.cells.append(nbformat.v4.new_code_cell("exp  # a record displays as the explorer too"))
    nbformat.write(nb, root / "explorer.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "explorer.ipynb")
            lab.run_all(page)
            view = page.locator(".tam-view").first  # the notebook's view (the appended one is second)
            view.wait_for(state="visible")
            kernel = lab.kernel_client("explorer.ipynb")
            explained = kernel.eval("[int(i) for i in exp.explained]")
            # The notebook pinned the last token and drew a region from Python: the page followed.
            view.locator(f'.tam-tok.tam-selected[data-i="{explained[-1]}"]').wait_for()
            page.wait_for_function("() => document.querySelector('.tam-view').classList.contains('tam-region-mode')")
            # The page's per-token shares (tooltips, in %) are the kernel's view.region_shares().
            shares = kernel.eval("{i: s * 100 for i, s in view.region_shares().items()}")
            for i in explained:
                title = view.locator(f'.tam-tok[data-i="{i}"]').get_attribute("title")
                assert title.endswith("% of its map inside the region"), title
                assert abs(float(title.split("%")[0]) - shares[i]) <= 0.051, (i, title, shares[i])
            kernel.execute("view.region = []")
            page.wait_for_function("() => !document.querySelector('.tam-view').classList.contains('tam-region-mode')")
            page.screenshot(path=str(shots / "jupyter_loaded.png"))

            # A click in the page reaches the kernel: the trait and the notebook's observer see it.
            target = explained[1]
            view.locator(f'.tam-tok[data-i="{target}"]').click()
            assert kernel.wait_for("view.selected", target) == target
            assert kernel.eval("picked[-1]") == target
            view.locator("select.tam-cmap").select_option("inferno")
            assert kernel.wait_for("view.colormap", "inferno") == "inferno"

            # And a change from Python reaches the page.
            kernel.execute(f"view.selected = {explained[0]}")
            view.locator(f'.tam-tok.tam-selected[data-i="{explained[0]}"]').wait_for()
            kernel.execute("view.method = 'eci_only'")
            page.wait_for_function(
                "() => document.querySelector('.tam-view select.tam-method').value === 'eci_only'"
            )
            # The page says what it shows: the method's legend, the record's provenance warning if any.
            legend = view.locator(".tam-legend-text")
            assert legend.inner_text().startswith(legend_text("eci_only")), legend.inner_text()
            warning = kernel.eval("__import__('tam_widgets').record.provenance(exp.metadata)")
            assert view.locator(".tam-warning").count() == (warning is not None)
            assert all(c.strip().endswith("%") for c in view.locator(".tam-cands li").all_inner_texts())
            page.screenshot(path=str(shots / "jupyter_synced.png"))

            # The on-demand view asked the kernel for rows and draws the same pixels as the inline one.
            assert kernel.eval("big._records[0]['maps']['tam'] is None and big.payload.meta['on_demand']")
            kernel.execute(f"view.method = 'tam'; view.colormap = 'jet'; view.selected = big.selected = {explained[2]}")
            big = page.locator(".tam-view").nth(1)
            big.scroll_into_view_if_needed()
            big.locator(f'.tam-tok.tam-selected[data-i="{explained[2]}"]').wait_for()
            page.wait_for_function("() => !document.querySelectorAll('.tam-view')[1].classList.contains('tam-loading')")
            page.wait_for_timeout(300)  # let both views finish the frame
            first, second = (np.array(page.evaluate(HEAT, n)) for n in (0, 1))
            assert first.size and (second.reshape(-1, 4)[:, 3] == 255).any()
            np.testing.assert_array_equal(first, second)
            page.screenshot(path=str(shots / "jupyter_on_demand.png"))

            # A refusal from the kernel (what it answers a bad message with) shows in that view's readout.
            kernel.execute("big.send({'type': 'error', 'error': 'refused: a test'})")
            big.locator(".tam-readout .tam-ro-err", has_text="refused: a test").wait_for()

            # display(exp) is the explorer as well (a third view, starting on the first answer token).
            shown = page.locator(".tam-view").nth(2)
            shown.scroll_into_view_if_needed()
            shown.locator(f'.tam-tok.tam-selected[data-i="{explained[0]}"]').wait_for()
        except Exception as e:
            page.screenshot(path=str(shots / "jupyter_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e


LIVE = """import tam_widgets as tw
from tam_widgets.testing.records import synthetic_record
exp = synthetic_record(12)
view = tw.TokenMapView(exp, max_inline_bytes=0)  # rows travel on request (the shown method's only)
view"""


VIEW_BG = """() => getComputedStyle(document.querySelector('.tam-view')).backgroundColor
  .match(/[\\d.]+/g).slice(0, 3).map(Number)"""


def set_theme(page, theme: str, light: bool) -> None:
    page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{str(light).lower()}'")
    page.wait_for_timeout(500)  # the theme's stylesheet settles


def test_themes_and_kernel_restart_under_a_live_view(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LIVE)])
    nbformat.write(nb, root / "live.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "live.ipynb")
            lab.run_all(page)
            view = page.locator(".tam-view").first
            view.locator(".tam-ro-stats").wait_for()  # the pinned token's rows came from the kernel
            assert view.locator(".tam-disconnected-banner").count() == 0
            # JupyterLab's dark and light themes: the view follows (background from --jp-layout-color0)
            set_theme(page, "JupyterLab Dark", light=False)
            assert sum(page.evaluate(VIEW_BG)) < 200
            page.screenshot(path=str(shots / "jupyter_dark.png"))
            set_theme(page, "JupyterLab Light", light=True)
            assert sum(page.evaluate(VIEW_BG)) > 700
            page.screenshot(path=str(shots / "jupyter_light.png"))
            page.evaluate("window.jupyterapp.commands.execute('notebook:restart-kernel')")
            banner = view.locator(".tam-disconnected-banner")
            banner.wait_for(timeout=30_000)
            assert banner.inner_text().startswith("kernel disconnected: showing what was loaded")
            assert view.locator("canvas.tam-heat").count() >= 1  # the view stays
            view.locator(".tam-ro-stats").wait_for()  # and so does what it had loaded
            # the methods whose maps never came need the kernel: disabled
            disabled = view.locator("select.tam-method").evaluate(
                "s => Array.from(s.options).filter(o => o.disabled).map(o => o.value)")
            assert disabled == ["cam", "eci_only", "filter_only"], disabled
            page.screenshot(path=str(shots / "jupyter_kernel_restarted.png"))

            # Rerun: a live view again. Then the kernel goes away (shut down from the server): the banner shows.
            lab.run_all(page)
            view = page.locator(".tam-view").first
            view.locator(".tam-ro-stats").wait_for()
            assert view.locator(".tam-disconnected-banner").count() == 0
            [kernel_id] = [s["kernel"]["id"] for s in lab.api("GET", "api/sessions")]
            lab.api("DELETE", f"api/kernels/{kernel_id}")
            view.locator(".tam-disconnected-banner").wait_for(timeout=30_000)
            assert view.locator("canvas.tam-heat").count() >= 1
        except Exception as e:
            page.screenshot(path=str(shots / "jupyter_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
