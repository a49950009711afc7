"""The failure-case board in a real JupyterLab: thumbnails and records come from the kernel, a case without a
record is explained on opening, an unreadable picture is an error on its case, annotations made in the page
(keys, note, flag) reach the journal; after a kernel restart the page says annotation is off; after a page
reload and a new kernel the annotations are there."""

from __future__ import annotations

from pathlib import Path

import nbformat

from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.jupyter import JupyterLab

from .test_browser_jupyter import set_theme

BOARD_BG = """() => getComputedStyle(document.querySelector('.tam-board')).backgroundColor
  .match(/[\\d.]+/g).slice(0, 3).map(Number)"""

ROOT = Path(__file__).resolve().parents[2]


def board_cell(folder: Path) -> str:
    return f"""import sys, pathlib
sys.path.insert(0, {str(ROOT)!r})
import tam_widgets as tw
from tests.widgets.board_study import FakeExplainer, make_study
study = make_study(pathlib.Path({str(folder)!r}), n=30)
board = tw.FailureCaseBoard(study, explainer=FakeExplainer())
board"""


def test_annotate_in_the_page_and_find_it_after_a_restart(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(board_cell(tmp_path / "study"))])
    nbformat.write(nb, root / "board.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "board.ipynb")
            lab.run_all(page)
            board = page.locator(".tam-board").first
            board.locator('.tam-case[data-case="q0"] .tam-case-thumb img').wait_for()  # asked for, by case
            kernel = lab.kernel_client("board.ipynb")

            # Open a cached case: its token map comes from the kernel.
            board.locator('.tam-case[data-case="q1"]').click()
            board.locator(".tam-board-map canvas.tam-heat").first.wait_for()
            assert kernel.wait_for("board.case", "q1") == "q1"

            # Annotate from the page: a digit picks a reason, f flags, the note is saved on leaving it.
            board.locator(".tam-case-list").focus()
            page.keyboard.press("0")  # the 10th reason: "missed object"
            board.locator(".tam-ann-status.tam-ann-saved").wait_for()
            page.keyboard.press("f")
            board.locator(".tam-case-current .tam-tag-flag").wait_for()
            board.locator(".tam-ann-note").fill("only the <b>sofa</b>")
            board.locator(".tam-ann-note").press("Tab")
            kernel.wait_for("board.annotations.note.tolist()", ["only the <b>sofa</b>"])
            got = kernel.eval("board.annotations[['case_id', 'reason', 'flag']].values.tolist()")
            assert got == [["q1", "missed object", True]]
            # digits went to the board, not to JupyterLab (no cell turned into a heading)
            assert kernel.eval("1 + 1") == 2 and page.locator(".jp-MarkdownCell").count() == 0

            # A case without a record is explained on opening (and cached); an unreadable picture is an error there.
            board.locator('.tam-case[data-case="q5"]').click()
            board.locator(".tam-board-map canvas.tam-heat").first.wait_for()
            assert kernel.eval("study.record_path('q5').is_file() and len(board.study.explainer.calls)") == 1
            board.locator('.tam-case[data-case="q3"]').click()
            board.locator(".tam-ci-error").wait_for()
            assert "cannot read its picture" in board.locator(".tam-ci-error").inner_text()
            assert board.locator(".tam-board-map .tam-tok").count() == 0
            page.screenshot(path=str(shots / "board_jupyter.png"))
            set_theme(page, "JupyterLab Dark", light=False)  # the board follows JupyterLab's theme
            assert sum(page.evaluate(BOARD_BG)) < 200
            page.screenshot(path=str(shots / "board_jupyter_dark.png"))
            set_theme(page, "JupyterLab Light", light=True)
            assert sum(page.evaluate(BOARD_BG)) > 700

            # The kernel restarts under the live board: it says so, and annotation is off.
            page.evaluate("window.jupyterapp.commands.execute('notebook:restart-kernel')")
            board.locator(".tam-disconnected-banner").wait_for(timeout=30_000)
            assert "annotation is disabled" in board.locator(".tam-ann-off").inner_text()
            assert board.locator(".tam-ann-reason").first.is_disabled()
            page.screenshot(path=str(shots / "board_jupyter_restarted.png"))

            # Reload the page and run the notebook in the new kernel: the annotation is there.
            lab.open_notebook(page, "board.ipynb")
            lab.run_all(page)
            board = page.locator(".tam-board").first
            row = board.locator('.tam-case[data-case="q1"]')
            row.locator(".tam-tag-reason").wait_for()
            assert "missed object" in row.inner_text() and "flagged" in row.inner_text()
            row.click()
            assert board.locator(".tam-ann-chosen").inner_text().endswith("missed object")
            assert board.locator(".tam-ann-note").input_value() == "only the <b>sofa</b>"
            assert board.locator(".tam-ann-flag input").is_checked()
        except Exception as e:
            page.screenshot(path=str(shots / "board_jupyter_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e


def test_a_notebook_saved_with_its_outputs_reopens_without_running(browser, tmp_path, monkeypatch):
    import os

    from nbclient import NotebookClient

    root = tmp_path / "lab"
    root.mkdir()
    cell = board_cell(tmp_path / "study") + "\nboard.annotate('q2', reason='other', flag=True)\nboard.open_case('q1')"
    cell += "\nboard"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    assert nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    nbformat.write(nb, root / "saved.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "saved.ipynb")  # not run: what was saved shows
            # without the widget model (JupyterLab restores saved widget state only with its saveState
            # setting on) the output's picture shows: the opened case's map, as the explorer draws it
            picture = page.locator(".jp-OutputArea-output img").first
            picture.wait_for()
            assert picture.evaluate("im => im.naturalWidth") > 300
            assert picture.get_attribute("src").startswith("data:image/png;base64,")
            page.wait_for_timeout(2000)  # a widget manager that failed would have said so by now
            assert page.get_by_text("model not found").count() == 0
            assert page.get_by_text("Error displaying widget").count() == 0
            page.screenshot(path=str(shots / "board_saved_state.png"))
        except Exception as e:
            page.screenshot(path=str(shots / "board_saved_state_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e


COUNT = "() => document.querySelector('.tam-board .tam-f-count').textContent"


def test_saved_widget_state_reopens_an_interactive_board_without_the_kernel(browser, tmp_path):
    """Saved with widget state (JupyterLab's saveState) and reopened with no kernel: the list, its filters and
    sorting, every annotation (the folded table and the latest batch), the records the page held; a case whose
    record is not in the state says it needs the kernel."""
    from tam_widgets.testing.jupyter import SAVE_WIDGET_STATE

    root = tmp_path / "lab"
    root.mkdir()
    cell = board_cell(tmp_path / "study").replace("\nboard", "\nimport tam_widgets.widgets.board as B\n"
                                                  "B.NOTES_BATCH_MIN = 4  # fold often: both parts in the state\n"
                                                  "board", 1)
    cell += ("\nboard.annotate('q2', reason='other', flag=True, note='the sea, not a beach')"
             "\nfor k in range(6, 30, 2):\n    board.annotate(f'q{k}', reason='lack of knowledge')"
             "\nboard")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "board.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root, settings=SAVE_WIDGET_STATE) as lab:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "board.ipynb")
            lab.run_all(page)
            board = page.locator(".tam-board").first
            board.locator('.tam-case[data-case="q0"] .tam-case-thumb img').wait_for()
            kernel = lab.kernel_client("board.ipynb")
            # annotate one case in the page; open two cases with records (the page holds them)
            board.locator('.tam-case[data-case="q0"]').click()
            board.locator(".tam-board-map canvas.tam-heat").first.wait_for()
            board.locator(".tam-case-list").focus()
            page.keyboard.press("0")  # "missed object"
            board.locator(".tam-ann-status.tam-ann-saved").wait_for()
            board.locator('.tam-case[data-case="q1"]').click()
            board.locator(".tam-board-map canvas.tam-heat").first.wait_for()
            kernel.wait_for("board.case", "q1")
            n_failed = kernel.eval("sum(r['correct'] is False for r in board._cases)")
            parts = kernel.eval("(len(board._notes), len(board._notes_new))")
            assert parts[0] and parts[1], parts  # annotations in both synced parts
            expected = kernel.eval("{k: v['reason'] for k, v in board.study.store.read().items()}")
            assert len(expected) == 14
            lab.save(page)
            state = lab.widget_state("board.ipynb")
            [saved] = [m["state"] for m in state.values() if m["state"].get("_view") == "case_board"]
            notes = {**saved["_notes"], **saved["_notes_new"]}
            assert {k: v["reason"] for k, v in notes.items()} == expected  # every annotation is in the file
            page.close()

            lab.shutdown("board.ipynb")  # no kernel now: open the notebook as a reader would
            page = context.new_page()
            page.set_default_timeout(90_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            lab.open_notebook(page, "board.ipynb")
            board = page.locator(".tam-board").first
            board.wait_for(state="visible")
            banner = board.locator(".tam-disconnected-banner:visible")  # the board's, not repeated by its map
            assert "no kernel: showing the saved state" in banner.inner_text() and banner.count() == 1
            # thumbnails came by messages: each says it was not loaded (none waits forever)
            board.locator('.tam-case[data-case="q0"] .tam-thumb-error').wait_for()
            assert page.evaluate(COUNT) == "30 cases"
            # the opened case's map, from the saved record
            board.locator(".tam-board-map canvas.tam-heat").first.wait_for()
            assert board.locator(".tam-case-current").get_attribute("data-case") == "q1"
            # annotations: made from Python (folded and recent) and in the page
            q2 = board.locator('.tam-case[data-case="q2"]')
            assert "other" in q2.inner_text() and "flagged" in q2.inner_text()
            assert "missed object" in board.locator('.tam-case[data-case="q0"]').inner_text()
            page.screenshot(path=str(shots / "board_saved_state_reopened.png"))
            # filters and sorting work on the saved rows
            board.locator("select.tam-f-correct").select_option("failed")
            assert page.evaluate(COUNT) == f"{n_failed} of 30 cases"
            board.locator("select.tam-f-correct").select_option("all")
            board.locator("select.tam-f-reason").select_option("lack of knowledge")
            assert page.evaluate(COUNT) == "12 of 30 cases"
            board.locator("select.tam-f-reason").select_option("")
            board.locator("input.tam-f-text").fill("not a beach")  # the text search looks in the notes too
            board.locator("input.tam-f-text").press("Enter")
            page.wait_for_function(f"() => ({COUNT})() === '1 of 30 cases'")
            assert board.locator(".tam-case").first.get_attribute("data-case") == "q2"
            board.locator("input.tam-f-text").fill("")
            board.locator("input.tam-f-text").press("Enter")
            page.wait_for_function(f"() => ({COUNT})() === '30 cases'")
            board.locator("select.tam-f-sort").select_option("score")
            first = board.locator(".tam-case").first.get_attribute("data-case")
            assert first != "q0"  # the failed cases come first
            # a case whose record the page held opens with its map; one without says it needs the kernel
            board.locator('.tam-case[data-case="q0"]').click()
            board.locator(".tam-board-map canvas.tam-heat").first.wait_for()
            assert board.locator(".tam-ann-chosen").inner_text().endswith("missed object")
            board.locator('.tam-case[data-case="q2"]').click()
            assert "opening it needs the kernel" in board.locator(".tam-ci-error").inner_text()
            assert board.locator(".tam-ann-note").input_value() == "the sea, not a beach"
            assert "annotation is disabled" in board.locator(".tam-ann-off").inner_text()
            assert board.locator(".tam-board-map .tam-tok").count() == 0
            page.screenshot(path=str(shots / "board_saved_state_needs_kernel.png"))
            assert not errors, errors
        except Exception as e:
            page.screenshot(path=str(shots / "board_saved_state_reopen_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
