"""The tutorials' harness: parameter injection as papermill does it, the expected-output rule, a real kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tam_widgets.testing.notebooks import (
    PARAMETERS_TAG,
    NotebookError,
    execute,
    expects_output,
    inject_parameters,
    parameter_names,
    silent_cells,
)


def test_parameter_injection_follows_the_parameters_cell_and_refuses_typos():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('MODEL = "Qwen/Qwen2-VL-2B"\nLIMIT = 200', metadata={"tags": [PARAMETERS_TAG]}),
            nbformat.v4.new_code_cell("print(MODEL, LIMIT)"),
        ]
    )
    out = inject_parameters(nb, {"LIMIT": 3, "MODEL": "/tmp/tiny"})
    last_lines = [c.source.splitlines()[-1] for c in out.cells]
    assert last_lines == ["LIMIT = 200", "MODEL = '/tmp/tiny'", "print(MODEL, LIMIT)"]
    assert len(nb.cells) == 2  # the original is left as it was
    with pytest.raises(KeyError, match="LIMT"):
        inject_parameters(nb, {"LIMT": 3})
    with pytest.raises(ValueError, match="not a Python literal"):
        inject_parameters(nb, {"LIMIT": object()})
    with pytest.raises(ValueError, match="NAME = value"):
        parameter_names("import os\nLIMIT = 3")


def test_the_expected_output_rule():
    assert expects_output("exp = explain()\nexp") and expects_output("x = 1\nprint(x)\ny = 2")
    assert expects_output("display(view)") and expects_output("%matplotlib inline\nfig")
    assert not expects_output("x = 1") and not expects_output("fig;") and not expects_output("import os")
    assert not expects_output('import sys\nif "google.colab" in sys.modules:\n    %pip install x')
    ran = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x"), nbformat.v4.new_code_cell("y = 1")])
    ran.cells[0].outputs = [nbformat.v4.new_output("stream", name="stderr", text="progress")]
    assert silent_cells(ran) == [(0, "x")]  # stderr (progress bars, warnings) is not output for the reader
    ran.cells[0].outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": "1"}))
    assert silent_cells(ran) == []


def test_execute_runs_this_checkout_in_the_given_folder_and_reports_a_failing_cell_plainly(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os, tam_widgets\nprint(os.getcwd(), tam_widgets.__file__)"),
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom matplotlib.figure import Figure\n"
                                  "Figure().add_subplot().figure"),
    ])  # fmt: skip
    done = execute(nb, cwd=work, home=tmp_path / "home")
    cwd, package = done.cells[0].outputs[0]["text"].split()
    assert Path(cwd) == work and Path(package).parent == Path(__file__).resolve().parents[2] / "tam_widgets"
    assert "image/png" in done.cells[1].outputs[0]["data"]  # figures show as pictures, not as their repr
    assert nb.cells[0].outputs == [] and not silent_cells(done)  # the given notebook is left as it was

    nb.cells.insert(1, nbformat.v4.new_code_cell("x = 1\n1 / (x - 1)"))
    with pytest.raises(NotebookError, match="ZeroDivisionError") as err:
        execute(nb, cwd=work, home=tmp_path / "home")
    assert "1 / (x - 1)" in str(err.value) and "\x1b[" not in str(err.value)
    assert not list(work.iterdir())


def test_kernel_env_makes_a_relative_nltk_data_path_absolute(tmp_path, monkeypatch):
    """`NLTK_DATA=../shared/nltk_data pytest ...` must reach a kernel that starts in a temp folder."""
    import os

    from tam_widgets.testing.notebooks import kernel_env

    monkeypatch.setenv("NLTK_DATA", os.pathsep.join(["../shared/nltk_data", "/abs/data"]))
    got = kernel_env(tmp_path)["NLTK_DATA"].split(os.pathsep)
    assert got == [os.path.abspath("../shared/nltk_data"), "/abs/data"]
