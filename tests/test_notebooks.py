"""Every notebook's code cells run top to bottom (no kernel needed)."""

import json
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    cells = json.loads(path.read_text())["cells"]
    code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    namespace: dict = {}
    for k, src in enumerate(code):
        exec(compile(src, f"{path.name}[{k}]", "exec"), namespace)
    assert not list(tmp_path.iterdir()), "a notebook wrote files into the working directory"


def test_there_are_notebooks():
    assert NOTEBOOKS
