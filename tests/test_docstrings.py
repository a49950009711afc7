"""Every public name has a docstring with an example (what the API reference site shows).

Public: ``tam_widgets.__all__`` and the ``__all__`` of the subpackages and modules in :data:`PUBLIC`. The
docstrings are read as the site reads them (griffe, statically); the examples of constants, which
``pytest --doctest-modules`` does not collect, are run here.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import inspect
import re
from pathlib import Path

import griffe  # the docs packages are in the test extra: pip install -e ".[test]"
import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = (
    "tam_widgets",
    "tam_widgets.record",
    "tam_widgets.widgets",
    "tam_widgets.studies",
    "tam_widgets.metrics",
    "tam_widgets.evaluate",
    "tam_widgets.models",
    "tam_widgets.methods",
    "tam_widgets.datasets",
    "tam_widgets.core",
)
EXAMPLE = re.compile(r"^\s*Examples?\b[^\n]*:$|^\s*>>>", re.M)


@functools.cache
def _package():
    return griffe.load("tam_widgets", search_paths=[str(ROOT)], docstring_parser=None, resolve_aliases=True,
                       resolve_external=False)


def public_names() -> list[tuple[str, str]]:
    """``(module, name)`` for every public name."""
    package = _package()
    out = []
    for path in PUBLIC:
        module = package[path.removeprefix("tam_widgets").lstrip(".")] if path != "tam_widgets" else package
        assert module.exports, f"{path} has no __all__"
        out += [(path, str(name)) for name in module.exports]
    return out


NAMES = public_names()


def _target(module: str, name: str):
    """The griffe object of ``module.name``: functions and classes found where Python defines them (griffe
    takes ``tam_widgets.compare_runs`` for the submodule of that name, which the function hides at run time)."""
    value = getattr(importlib.import_module(module), name)
    path = f"{module}.{name}"
    if inspect.isclass(value) or inspect.isfunction(value):
        path = f"{value.__module__}.{value.__qualname__}"
    obj = _package()[path.removeprefix("tam_widgets").lstrip(".")]
    return obj.final_target if obj.is_alias else obj


CONSTANTS = [(m, n) for m, n in NAMES if _target(m, n).is_attribute]


def test_the_public_modules_are_found():
    assert len(NAMES) > 100 and len(CONSTANTS) > 20
    assert ("tam_widgets", "load") in NAMES and ("tam_widgets.studies", "Study") in NAMES


@pytest.mark.parametrize(("module", "name"), NAMES, ids=[f"{m}.{n}" for m, n in NAMES])
def test_public_name_has_a_docstring_with_an_example(module, name):
    obj = _target(module, name)
    doc = obj.docstring.value if obj.docstring else ""
    where = f"{obj.filepath.relative_to(ROOT)}:{obj.lineno}"
    assert doc.strip(), f"{module}.{name} ({where}) has no docstring"
    assert EXAMPLE.search(doc), f"{module}.{name} ({where}): its docstring has no example ('Example:' or '>>>')"


@pytest.mark.parametrize(("module", "name"), CONSTANTS, ids=[f"{m}.{n}" for m, n in CONSTANTS])
def test_examples_of_constants_run(module, name):
    """A constant's docstring (a string after its assignment) is not collected by doctest: run it here."""
    obj = _target(module, name)
    assert obj.docstring and ">>>" in obj.docstring.value, f"{obj.path}: give its docstring a runnable example"
    namespace = dict(vars(importlib.import_module(obj.parent.path)))
    test = doctest.DocTestParser().get_doctest(obj.docstring.value, namespace, obj.path, str(obj.filepath), obj.lineno)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"the example of {obj.path} fails (see the output above)"
