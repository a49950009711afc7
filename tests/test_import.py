"""What importing costs: no torch for saved records, and no import cycle between the record and the widgets."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tam_widgets

PACKAGE = Path(tam_widgets.__file__).parent
ROOT = PACKAGE.parent

#: A meta path finder refusing some top-level names, put first in a fresh interpreter.
BLOCK = """
import sys

class Block:
    def __init__(self, *names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if any(name == n or name.startswith(n + ".") for n in self.names):
            raise ImportError(f"{name} is blocked by the test")
        return None

"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    from tam_widgets.testing.records import small_record

    return small_record().save(tmp_path_factory.mktemp("rec") / "small.tam")


def test_saved_records_load_show_and_draw_without_torch(saved, tmp_path):
    out = tmp_path / "page.html"
    code = """
        sys.meta_path.insert(0, Block("torch", "transformers"))
        import tam_widgets as tw

        exp = tw.Explanation.load(sys.argv[1])
        assert exp.to_html(sys.argv[2]).exists()
        fig = exp.figure(max_tokens=2)
        view = exp.show(method="cam")
        assert isinstance(view, tw.TokenMapView) and view.method == "cam"
        data = exp._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in (data[0] if isinstance(data, tuple) else data)
        load = tw.load  # reachable: only a call needs the model stack
        try:
            load("Qwen/Qwen2-VL-2B-Instruct")
        except ImportError as err:
            print("ImportError:", err)
        else:
            raise SystemExit("tw.load did not raise")
        from tam_widgets import *  # noqa: F403  every public name still binds
        loaded = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "transformers"})
        print("loaded:", loaded)
    """
    done = _run(code, str(saved), str(out))
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
    assert "ImportError: tam_widgets.load needs the model stack (torch and transformers)" in done.stdout
    assert "torch is blocked by the test" in done.stdout and "Saved records load, show and draw" in done.stdout
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_with_torch_the_lazy_names_are_the_real_ones():
    from tam_widgets import core, explain, models

    assert tam_widgets.load is explain.load and tam_widgets.Chat is explain.Chat
    assert tam_widgets.tam_from_hidden is core.tam_from_hidden
    assert tam_widgets.register_adapter is models.register_adapter
    assert set(tam_widgets.__all__) <= set(dir(tam_widgets))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        tam_widgets.nothing  # noqa: B018


def test_the_record_imports_without_the_widgets(saved):
    """No cycle: tam_widgets.record (and io, words, render) never import tam_widgets.widgets."""
    code = f"""
        import types
        sys.meta_path.insert(0, Block("tam_widgets.widgets", "torch", "transformers"))
        pkg = types.ModuleType("tam_widgets")  # the package without its __init__ (which imports the widgets)
        pkg.__path__ = [{str(PACKAGE)!r}]
        sys.modules["tam_widgets"] = pkg
        import tam_widgets.record as record
        import tam_widgets.io, tam_widgets.words, tam_widgets.render, tam_widgets._version

        exp = record.Explanation.load(sys.argv[1])
        exp.figure(max_tokens=1)
        for call in (exp.show, lambda: exp.to_html("x.html")):
            try:
                call()
            except RuntimeError as err:
                print("RuntimeError:", err)
        print("widgets imported:", "tam_widgets.widgets" in sys.modules)
    """
    done = _run(code, str(saved))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("RuntimeError: no viewer is registered") == 2
    assert "import tam_widgets.widgets" in done.stdout and "widgets imported: False" in done.stdout


#: Modules that must not import torch, transformers (or, for the record, the widgets) when imported.
LIGHT = ["record", "widgets", "io.py", "words.py", "render.py", "_version.py", "__init__.py"]


def _module_level_imports(path: Path) -> list[str]:
    """Absolute names of what ``path`` imports at module level (``if TYPE_CHECKING`` blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts[:-1])  # the package the module is in (for __init__, the package itself)
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            mod = ".".join([*base, node.module] if node.module else base)
            names.append(mod)
    return names


def test_light_modules_import_no_model_stack_at_module_level():
    files = [PACKAGE / n for n in LIGHT if n.endswith(".py")]
    files += [p for n in LIGHT if not n.endswith(".py") for p in sorted((PACKAGE / n).rglob("*.py"))]
    assert len(files) >= 12
    for path in files:
        imports = _module_level_imports(path)
        heavy = [m for m in imports if m.split(".")[0] in ("torch", "transformers")]
        assert not heavy, f"{path.relative_to(ROOT)} imports {heavy} at module level"
        if "record" in path.parts:
            assert not [m for m in imports if m.startswith("tam_widgets.widgets")], path
    assert "tam_widgets.record.display" in _module_level_imports(PACKAGE / "widgets" / "__init__.py")
