"""The documentation site builds in strict mode and holds what it promises: every public name's reference
entry, every tutorial, every command's help. (``make docs`` builds the same site into ``site/``.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tam_widgets.cli import COMMANDS

from .test_docstrings import NAMES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    problems = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(problems or [done.stderr[-3000:]])
    return out


def _anchors(page: Path) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))


def test_every_public_name_has_a_reference_entry(site):
    missing = []
    for module, name in NAMES:
        page = site / "api" / module.rsplit(".", 1)[-1] / "index.html"
        if f"{module}.{name}" not in _anchors(page):
            missing.append(f"{module}.{name} (api/{page.parent.name})")
    assert not missing, f"not in the API reference: {missing}"


def test_every_notebook_is_a_tutorial_page(site):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    nav = (site / "index.html").read_text(encoding="utf-8")
    for nb in notebooks:
        page = site / "tutorials" / nb.stem / "index.html"
        assert page.is_file(), f"{nb.name} was not rendered"
        assert f"tutorials/{nb.stem}/" in nav, f"{nb.name} is not in the navigation"
        text = page.read_text(encoding="utf-8")
        assert "jp-CodeCell" in text or "jp-Cell" in text, f"{nb.name}: no cells on its page"


def test_the_cli_page_holds_every_commands_help(site):
    text = (site / "guide" / "cli" / "index.html").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f'id="tam-widgets-{name}"' in text and f"usage: tam-widgets {name}" in text, name
    assert "examples:" in text


def test_docstring_examples_render_as_code_without_doctest_flags(site):
    text = (site / "api" / "tam_widgets" / "index.html").read_text(encoding="utf-8")
    assert "doctest:" not in text and ":class:`" not in text
    assert '<span class="gp">&gt;&gt;&gt; </span>' in text  # highlighted as a Python console session
