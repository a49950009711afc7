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


def _runtime_distributions() -> set[str]:
    """Normalised names of the package's runtime requirements (no extras), from its installed metadata."""
    import importlib.metadata
    import re

    reqs = importlib.metadata.requires("tam-widgets") or []
    return {re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs if "extra ==" not in r}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_only_runtime_dependencies(path):
    """A user who ran `pip install tam-widgets` (no test extras) can run every notebook."""
    import ast
    import importlib.metadata
    import sys

    owners = importlib.metadata.packages_distributions()
    allowed = _runtime_distributions()
    cells = json.loads(path.read_text())["cells"]
    for src in ("".join(c["source"]) for c in cells if c["cell_type"] == "code"):
        for node in ast.walk(ast.parse(src)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "tam_widgets":
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [])}
                assert dists & allowed, f"{path.name} imports {top!r}, which `pip install tam-widgets` does not install"


def test_the_import_check_knows_test_only_packages():
    import importlib.metadata

    owners = importlib.metadata.packages_distributions()
    assert "scikit-image" not in _runtime_distributions() and "scikit-image" in owners["skimage"]
