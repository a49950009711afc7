"""Self-test of the JupyterLab harness: an inline anywidget round-trips a value between page and kernel."""

from __future__ import annotations

import time

import nbformat
import pytest

from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.jupyter import JupyterLab, KernelError

WIDGET = '''\
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "tam-test-counter";
      const show = () => { button.textContent = String(model.get("value")); };
      button.addEventListener("click", () => {
        model.set("value", model.get("value") + 1);
        model.save_changes();
      });
      model.on("change:value", show);
      show();
      el.appendChild(button);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)


w = Counter()
w
'''


def write_notebook(path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# harness self-test"), nbformat.v4.new_code_cell(WIDGET)]
    nbformat.write(nb, path)


def test_anywidget_round_trip(browser, tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    write_notebook(nb_dir / "counter.ipynb")
    shots = artifacts_dir(tmp_path)
    t0 = time.monotonic()
    with JupyterLab(nb_dir) as lab:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            lab.open_notebook(page, "counter.ipynb")
            lab.run_all(page)
            button = page.locator("button.tam-test-counter")
            button.wait_for(state="visible")
            assert button.inner_text() == "0"
            button.click()
            page.wait_for_function("() => document.querySelector('button.tam-test-counter').textContent === '1'")
            page.screenshot(path=str(shots / "test_jupyter_clicked.png"))

            kernel = lab.kernel_client("counter.ipynb")
            assert kernel.wait_for("w.value", 1) == 1
            assert kernel.execute("print(type(w).__name__)") == "Counter\n"
            with pytest.raises(KernelError, match="ZeroDivisionError"):
                kernel.execute("1 / 0")

            kernel.execute("w.value = 42")
            page.wait_for_function("() => document.querySelector('button.tam-test-counter').textContent === '42'")
            page.screenshot(path=str(shots / "test_jupyter_42.png"))
        except Exception as e:
            page.screenshot(path=str(shots / "test_jupyter_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
        finally:
            context.close()
    print(f"JupyterLab round trip took {time.monotonic() - t0:.1f} s")
    assert (nb_dir / "counter.ipynb").exists() and sorted(p.name for p in nb_dir.iterdir()) == ["counter.ipynb"]
