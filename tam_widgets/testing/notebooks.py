"""Run the tutorials (``notebooks/*.ipynb``) as a user would: parameters injected, a real kernel, every output kept.

Each tutorial has one code cell tagged ``parameters`` (model ids, data paths, sizes: a GPU user's defaults).
:func:`inject_parameters` adds a cell tagged ``injected-parameters`` right after it that overrides some of them,
as papermill does, so the same notebook runs on tiny offline models and small synthetic files;
:func:`execute` runs it top to bottom in a ``python3`` kernel (nbclient) that imports this copy of
``tam_widgets``; :func:`silent_cells` lists the cells that should have shown something and did not
(the rule is :func:`expects_output`).

    nb = inject_parameters(nbformat.read("notebooks/01_quickstart.ipynb", as_version=4),
                           {"MODEL": str(tiny_model("qwen2_vl")), "OUT": "/tmp/out"})
    done = execute(nb, cwd="/tmp/work")
    assert not silent_cells(done)
"""

from __future__ import annotations

import ast
import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


class NotebookError(RuntimeError):
    """A cell of a notebook failed; the message holds the cell's source and the traceback (plain text)."""


def _tags(cell: Mapping) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def python_source(source: str) -> str:
    """A cell's source as plain Python: IPython syntax (``%pip``, ``!ls``) becomes ``get_ipython()`` calls.

    >>> python_source("%pip install x").strip()
    "get_ipython().run_line_magic('pip', 'install x')"
    """
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def parameter_names(source: str) -> list[str]:
    """The names a parameters cell assigns; anything but ``NAME = <literal>`` lines is refused.

    >>> parameter_names('MODEL = "Qwen/Qwen2-VL-2B-Instruct"  # a Hub id\\nLIMIT = 200')
    ['MODEL', 'LIMIT']
    """
    names = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"a parameters cell holds only NAME = value lines, not {ast.unparse(node)!r}")
        ast.literal_eval(node.value)  # ValueError unless a literal: the cell must read as settings
        names.append(node.targets[0].id)
    return names


def parameters_cell(nb: Mapping) -> int:
    """Index of the one code cell tagged ``parameters`` (``ValueError`` if there is none or several)."""
    found = [k for k, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and PARAMETERS_TAG in _tags(c)]
    if len(found) != 1:
        raise ValueError(f"a tutorial has exactly one code cell tagged {PARAMETERS_TAG!r}; found {len(found)}")
    return found[0]


def inject_parameters(nb: Any, params: Mapping[str, Any]) -> Any:
    """A copy of ``nb`` with a cell tagged ``injected-parameters`` after its parameters cell, setting ``params``.

    Every name must be one the parameters cell defines (a typo would otherwise run the default silently)
    and every value a Python literal (its ``repr`` is the cell's text).

    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("LIMIT = 200", metadata={"tags": ["parameters"]})
    >>> nb = nbformat.v4.new_notebook(cells=[cell])
    >>> inject_parameters(nb, {"LIMIT": 3}).cells[1].source
    '# Parameters injected for this run (they override the cell above)\\nLIMIT = 3'
    """
    import nbformat

    nb = copy.deepcopy(nb)
    k = parameters_cell(nb)
    known = parameter_names(nb["cells"][k]["source"])
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise KeyError(f"{', '.join(unknown)}: not set in the parameters cell (it sets {', '.join(known)})")
    lines = ["# Parameters injected for this run (they override the cell above)"]
    for name, value in params.items():
        text = repr(value)
        try:
            same = ast.literal_eval(text) == value
        except (ValueError, SyntaxError):
            same = False
        if not same:
            raise ValueError(f"{name}: {value!r} is not a Python literal")
        lines.append(f"{name} = {text}")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    nb["cells"].insert(k + 1, cell)
    return nb


def expects_output(source: str) -> bool:
    """Whether a code cell must show something when run (the rule of the tutorials' test).

    It must when its last statement is an expression (IPython shows its value; a ``;`` at the end hides
    it on purpose) or when it calls ``print`` or ``display`` at the top level. An assignment, an import
    or a loop without ``print`` may stay silent.

    >>> expects_output("view = tw.TokenMapView(exp)\\nview"), expects_output("x = 1"), expects_output("fig;")
    (True, False, False)
    """
    tree = ast.parse(python_source(source))
    if not tree.body:
        return False
    last = tree.body[-1]
    if isinstance(last, ast.Expr) and not source.rstrip().endswith(";"):
        return True
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            fn = node.value.func
            if isinstance(fn, ast.Name) and fn.id in ("print", "display"):
                return True
    return False


def shown(cell: Mapping) -> bool:
    """Whether an executed cell shows the reader something: a value, a display, or printed text.

    Text on stderr (progress bars, warnings) does not count.
    """
    for out in cell.get("outputs", []):
        if out["output_type"] in ("execute_result", "display_data"):
            return True
        if out["output_type"] == "stream" and out.get("name") == "stdout" and out.get("text", "").strip():
            return True
    return False


def silent_cells(nb: Mapping) -> list[tuple[int, str]]:
    """``(index, first line)`` of every code cell that :func:`expects_output` but showed nothing."""
    return [
        (k, c["source"].splitlines()[0] if c["source"] else "")
        for k, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and expects_output(c["source"]) and not shown(c)
    ]


def kernel_env(home: str | os.PathLike) -> dict[str, str]:
    """The kernel's environment: this process's, with this copy of ``tam_widgets`` first on the path and
    IPython's and matplotlib's own files under ``home`` (nothing written outside it); a relative ``NLTK_DATA``
    is made absolute, since the kernel starts in another folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "MPLBACKEND"))}
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    if env.get("NLTK_DATA"):  # the kernel runs in another folder: a relative data path must still point there
        env["NLTK_DATA"] = os.pathsep.join(os.path.abspath(p) for p in env["NLTK_DATA"].split(os.pathsep) if p)
    for key, sub in (("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")):
        path = Path(home) / sub
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def execute(nb: Any, cwd: str | os.PathLike, *, timeout: int = 600, home: str | os.PathLike | None = None) -> Any:
    """Run every cell of ``nb`` in a fresh ``python3`` kernel of this interpreter, in folder ``cwd``.

    Returns the executed notebook; the first failing cell raises :class:`NotebookError` (its message holds
    the cell and the traceback, without colour codes; it pickles, so a process pool can run notebooks).
    ``home`` holds the kernel's IPython and matplotlib files (default: ``kernel-home`` beside ``cwd``).
    """
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = copy.deepcopy(nb)
    home = Path(home) if home is not None else Path(cwd).resolve().parent / "kernel-home"
    # jupyter_client starts the kernelspec's "python" as this interpreter (sys.executable)
    km = KernelManager(kernel_name="python3")
    client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute(env=kernel_env(home))
    except CellExecutionError as e:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", e.traceback)
        raise NotebookError(plain) from None
    return nb


__all__ = [
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "NotebookError",
    "execute",
    "expects_output",
    "inject_parameters",
    "kernel_env",
    "parameter_names",
    "parameters_cell",
    "python_source",
    "shown",
    "silent_cells",
]
