"""The widget in a real JupyterLab: the shipped notebook runs, a click reaches the kernel and back; themes,
kernel loss, and a notebook saved with its widget state reopened without its kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np

from tam_widgets.record import legend_text
from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.jupyter import SAVE_WIDGET_STATE, JupyterLab
from tam_widgets.testing.notebooks import inject_parameters
from tam_widgets.testing.records import synthetic_record
from tam_widgets.widgets.base import bundle

from ..test_notebooks import offline_parameters
from .test_browser_html import expected_heat

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_quickstart.ipynb"
# Appended to the shipped notebook: a second view that must fetch its maps from the kernel.
ON_DEMAND = "big = tw.TokenMapView(exp, max_inline_bytes=0)  # rows travel on request\nbig"
HEAT = """(n) => { const c = document.querySelectorAll('.tam-view')[n].querySelector('canvas.tam-heat');
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""


def test_notebook_view_syncs_with_the_kernel(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    # The shipped quickstart on its offline parameters (a tiny Qwen2-VL); its one view is the explorer.
    nb = inject_parameters(nbformat.read(NOTEBOOK, as_version=4), offline_parameters(NOTEBOOK.stem, tmp_path))
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
                # the first line (a token may add a note, e.g. "empty token (no text)")
                title = view.locator(f'.tam-tok[data-i="{i}"]').get_attribute("title").splitlines()[0]
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


SAVED = """import tam_widgets as tw
from tam_widgets.testing.records import synthetic_record
exp = synthetic_record(12)
view = tw.TokenMapView(exp)  # every map inline: the saved state holds them all
view"""
ON_DEMAND_SAVED = "big = tw.TokenMapView(exp, max_inline_bytes=0)  # rows come from the kernel: not in the state\nbig"
FIRST_HEAT = """() => { const c = document.querySelector('.tam-view canvas.tam-heat');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return {w: c.width, h: c.height, data: Array.from(data)}; }"""


def shown_heat(page) -> np.ndarray:
    got = page.evaluate(FIRST_HEAT)
    return np.array(got["data"], np.int16).reshape(got["h"], got["w"], 4)[..., :3]


def assert_first_view_shows(page, exp, row: int, cmap: str) -> None:
    diff = np.abs(shown_heat(page) - expected_heat(exp, row, cmap=cmap)).mean()
    assert diff < 3.0, f"the reopened view's heat differs from row {row} ({cmap}) by {diff:.2f} on average"


def test_saved_widget_state_reopens_without_the_kernel(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SAVED), nbformat.v4.new_code_cell(ON_DEMAND_SAVED)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "saved.ipynb")
    exp = synthetic_record(12)  # the notebook's record (deterministic)
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root, settings=SAVE_WIDGET_STATE) as lab:
        context = browser.new_context(viewport={"width": 1200, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "saved.ipynb")
            lab.run_all(page)
            view = page.locator(".tam-view").first
            view.locator(".tam-ro-stats").wait_for()
            page.locator(".tam-view").nth(1).locator(".tam-ro-stats").wait_for()  # its pinned row came
            # what the page changes is part of the saved state
            view.locator('.tam-tok[data-i="15"]').click()
            view.locator("select.tam-cmap").select_option("viridis")
            kernel = lab.kernel_client("saved.ipynb")
            kernel.wait_for("(view.selected, view.colormap)", (15, "viridis"))
            lab.save(page)
            state = lab.widget_state("saved.ipynb")
            views = [m["state"] for m in state.values() if m["model_module"] == "anywidget"]
            assert len(views) == 2, state.keys()
            # the state holds anywidget's module source, our bundle, the records and their buffers
            esm = bundle("widget.js").read_text(encoding="utf-8")
            assert all(v["_esm"] == esm and v["_view"] == "token_map" for v in views)
            # (model order in the state is not display order) the first view's page changes are saved
            assert (15, "viridis") in [(v["selected"], v["colormap"]) for v in views], views
            paths = [b["path"] for m in state.values() for b in m.get("buffers", [])]
            assert ["_records", 0, "maps", "tam"] in paths, paths
            page.close()

            lab.shutdown("saved.ipynb")  # the kernel is gone; open the notebook again, as a reader would
            page = context.new_page()
            page.set_default_timeout(90_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            lab.open_notebook(page, "saved.ipynb")
            view = page.locator(".tam-view").first
            view.wait_for(state="visible")
            page.wait_for_function("document.querySelectorAll('.tam-view').length === 2")
            assert "model not found" not in page.locator("body").inner_text()
            for k in range(2):
                banner = page.locator(".tam-view").nth(k).locator(".tam-disconnected-banner")
                assert "no kernel: showing the saved state" in banner.inner_text()
            # the saved state as it was: token 15 pinned, viridis, its map drawn
            assert view.locator(".tam-tok.tam-selected").get_attribute("data-i") == "15"
            assert view.locator("select.tam-cmap").input_value() == "viridis"
            assert_first_view_shows(page, exp, 3, "viridis")
            page.screenshot(path=str(shots / "jupyter_reopened.png"))
            # interactive from the state: hover previews, a click pins, the colour switch repaints
            view.locator('.tam-tok[data-i="17"]').hover()
            assert_first_view_shows(page, exp, 5, "viridis")
            view.locator('.tam-tok[data-i="18"]').click()
            page.mouse.move(5, 990)
            assert view.locator(".tam-tok.tam-selected").get_attribute("data-i") == "18"
            assert_first_view_shows(page, exp, 6, "viridis")
            view.locator("select.tam-cmap").select_option("jet")
            assert_first_view_shows(page, exp, 6, "jet")
            assert view.locator(".tam-readout .tam-ro-tok").inner_text() == '" w6"'  # token 18
            # the on-demand view held no rows in its state: it says so instead of waiting
            big = page.locator(".tam-view").nth(1)
            big.scroll_into_view_if_needed()
            assert "not loaded before the kernel went away" in big.locator(".tam-readout").inner_text()
            disabled = big.locator("select.tam-method").evaluate(
                "s => Array.from(s.options).filter(o => o.disabled).map(o => o.value)")
            assert disabled == ["tam", "cam", "eci_only", "filter_only"], disabled
            page.screenshot(path=str(shots / "jupyter_reopened_on_demand.png"))
            assert not errors, errors
        except Exception as e:
            page.screenshot(path=str(shots / "jupyter_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e


def test_a_notebook_shared_without_widget_state_shows_the_picture(browser, tmp_path):
    """Saved without widget state (JupyterLab's default) and opened in another JupyterLab, where the notebook
    is not trusted: JupyterLab shows the output's PNG of the view, not "model not found"."""
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SAVED)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "shared.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1200, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "shared.ipynb")
            lab.run_all(page)
            page.locator(".tam-view .tam-ro-stats").wait_for()
            lab.save(page)
        except Exception as e:
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
    assert lab.widget_state("shared.ipynb") == {}
    [out] = nbformat.read(root / "shared.ipynb", as_version=4).cells[0].outputs
    png = out.data["image/png"]
    with JupyterLab(root) as lab:  # another JupyterLab: another notary, so the notebook is not trusted here
        page = browser.new_context(viewport={"width": 1200, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "shared.ipynb")
            img = page.locator(".jp-OutputArea-output.jp-RenderedImage img")
            img.wait_for()
            page.wait_for_function("() => document.querySelector('.jp-RenderedImage img').naturalWidth > 0")
            src = img.get_attribute("src").replace("\n", "")
            assert src == "data:image/png;base64," + png.replace("\n", "")  # the view's saved picture
            assert page.locator(".tam-view").count() == 0
            assert "model not found" not in page.locator("body").inner_text()
            page.screenshot(path=str(shots / "jupyter_shared_png.png"))
        except Exception as e:
            page.screenshot(path=str(shots / "jupyter_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
