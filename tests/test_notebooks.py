"""The tutorials (notebooks/*.ipynb) run top to bottom in a real kernel, as committed, on offline inputs.

Each notebook runs through nbclient in a ``python3`` kernel of this interpreter with its parameters cell
overridden (:func:`tam_widgets.testing.notebooks.inject_parameters`): tiny random checkpoints of the real
model classes and small files of the real data formats, all under ``tmp_path``. A run fails on any error,
and on any cell that was expected to show something and showed nothing. The rule
(:func:`~tam_widgets.testing.notebooks.expects_output`): a cell must show output when its last statement
is an expression (not ended by ``;``) or when it calls ``print`` / ``display`` at the top level.
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest

from tam_widgets.testing.notebooks import (
    INJECTED_TAG,
    execute,
    inject_parameters,
    parameter_names,
    parameters_cell,
    python_source,
    silent_cells,
)

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
TUTORIALS = (
    "01_quickstart",
    "02_compare_models",
    "03_multi_turn_chat",
    "04_failure_cases_okvqa",
    "05_video_star",
    "06_reproduce_the_paper",
    "07_add_a_model_family",
)
#: Kernels run at a time (each in its own process): two fit the 2-core CI machine's memory and halve the wait.
WORKERS = 2
#: The GitHub repository the Colab badges open. pyproject.toml names no repository URL, so this is a
#: placeholder organisation, stated here once; the badge test keeps every notebook on it.
REPOSITORY = "tam-widgets/tam-widgets"


def offline_parameters(name: str, folder: Path) -> dict:
    """The values that make tutorial ``name`` run offline and fast, its inputs written under ``folder``."""
    from tam_widgets.testing import tiny_model
    from tam_widgets.testing.datasets import coco_formatted, okvqa_formatted, star_formatted

    qwen, internvl, llava = (str(tiny_model(f)) for f in ("qwen2_vl", "internvl", "llava"))
    out = str(folder / "out")
    if name == "01_quickstart":
        return {"MODEL": qwen, "MAX_NEW_TOKENS": 8, "OUT": out}
    if name == "02_compare_models":
        return {"MODELS": {"Qwen2-VL": qwen, "InternVL": internvl, "LLaVA-1.5": llava}, "MAX_NEW_TOKENS": 6,
                "COCO_ROOT": str(coco_formatted(folder / "coco")), "LIMIT": 2, "MIN_COUNT": 1, "OUT": out}
    if name == "03_multi_turn_chat":
        return {"MODEL": qwen, "MAX_NEW_TOKENS": 6, "OUT": out}
    if name == "04_failure_cases_okvqa":
        files = okvqa_formatted(folder / "okvqa")
        return {"MODEL": qwen, "QUESTIONS": str(files["questions"]), "ANNOTATIONS": str(files["annotations"]),
                "IMAGES": str(files["images"]), "LIMIT": 3, "MAX_NEW_TOKENS": 4, "STUDY": out}
    if name == "05_video_star":
        files = star_formatted(folder / "star")
        return {"MODEL": qwen, "STAR_JSON": str(files["json"]), "VIDEOS": str(files["videos"]), "LIMIT": 3,
                "MAX_FRAMES": 4, "MAX_NEW_TOKENS": 4, "STUDY": out}
    if name == "06_reproduce_the_paper":
        return {"MODEL": qwen, "COCO_ROOT": str(coco_formatted(folder / "coco")), "LIMIT": 2, "MAX_NEW_TOKENS": 6,
                "OUT": out}
    if name == "07_add_a_model_family":
        return {"MODEL": llava, "MAX_NEW_TOKENS": 6, "OUT": out}
    raise KeyError(f"{name}: no offline parameters; add them to offline_parameters")


def _code(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_the_tutorials_are_the_seven_of_the_course():
    assert tuple(p.stem for p in NOTEBOOKS) == TUTORIALS


@pytest.fixture(scope="module")
def executed(request, tmp_path_factory):
    """The selected tutorials, started at once on :data:`WORKERS` kernels: name -> (folder, future notebook).

    Inputs (tiny checkpoints, data files) are made here; each run's folder holds ``inputs/`` (its ``OUT``
    is ``inputs/out``), ``work/`` (the kernel's working folder, which must stay empty) and the kernel's home.
    """
    name = "test_tutorial_runs_top_to_bottom_with_every_expected_output"
    selected = [i.callspec.params["path"] for i in request.session.items
                if getattr(i, "originalname", None) == name and hasattr(i, "callspec")]  # fmt: skip
    runs = {}
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        for path in selected:
            folder = tmp_path_factory.mktemp(path.stem)
            (folder / "inputs").mkdir()
            (folder / "work").mkdir()
            nb = inject_parameters(nbformat.read(path, as_version=4), offline_parameters(path.stem, folder / "inputs"))
            runs[path.stem] = folder, pool.submit(execute, nb, folder / "work", home=folder / "kernel-home")
        yield runs
        for _, future in runs.values():
            future.cancel()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_tutorial_runs_top_to_bottom_with_every_expected_output(path, executed):
    folder, future = executed[path.stem]
    work, inputs = folder / "work", folder / "inputs"
    done = future.result()  # NotebookError: the failing cell and its traceback
    silent = silent_cells(done)
    assert not silent, f"{path.name}: cells that should show something showed nothing: {silent}"
    assert not list(work.iterdir()), f"{path.name} wrote into the working folder instead of its OUT parameter"
    assert list((inputs / "out").iterdir()), f"{path.name} wrote nothing into its OUT folder"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_tutorial_is_committed_without_outputs(path):
    for k, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} cell {k} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_tutorial_opens_with_a_colab_badge_an_install_cell_and_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first, install = nb.cells[0], nb.cells[1]
    url = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{path.name}"
    assert first.cell_type == "markdown" and first.source.startswith("# ") and f"]({url})" in first.source
    # The install cell runs pip on Colab only: anywhere else it does nothing.
    tree = ast.parse(python_source(install.source))
    guard = tree.body[-1]
    assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "'google.colab' in sys.modules"
    assert "%pip install" in install.source and not guard.orelse
    assert len(tree.body) == 2 and ast.unparse(tree.body[0]) == "import sys"  # nothing else runs outside Colab
    assert [c for c in nb.cells if c.cell_type == "code"][0] is install
    k = parameters_cell(nb)
    assert k == 3 and nb.cells[k - 1].cell_type == "markdown"
    names = parameter_names(nb.cells[k].source)
    assert names
    # The defaults are what a GPU user runs: real Hub checkpoints, never the test suite's tiny ones.
    assert "tam_widgets.testing" not in "".join(_code(path)), f"{path.name} uses the test helpers"
    assert re.search(r'"[\w-]+/[\w.-]+(-hf|-Instruct)"', nb.cells[k].source), f"{path.name}: no Hub model id"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_offline_parameter_is_one_the_notebook_defines(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    injected = inject_parameters(nb, offline_parameters(path.stem, tmp_path))  # KeyError on an unknown name
    assert INJECTED_TAG in injected.cells[parameters_cell(nb) + 1].metadata["tags"]


def _runtime_distributions() -> set[str]:
    """Normalised names of the package's runtime requirements (no extras), from its installed metadata."""
    import importlib.metadata

    reqs = importlib.metadata.requires("tam-widgets") or []
    return {re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs if "extra ==" not in r}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_imports_only_runtime_dependencies(path):
    """A user who ran `pip install tam-widgets` (no test extras) can run every notebook."""
    import importlib.metadata
    import sys

    owners = importlib.metadata.packages_distributions()
    allowed = _runtime_distributions()
    # The install cell (checked to run on Colab only) may import Colab's own module; every other cell counts.
    for src in _code(path)[1:]:
        for node in ast.walk(ast.parse(python_source(src))):
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
