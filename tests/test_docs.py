"""The documentation pages' examples are right: their Python runs, their commands parse.

Every ```python block of ``docs/**/*.md`` runs, page by page (one namespace per page, blocks in order),
in a temporary folder holding the files the pages name: records standing in for the ones a model would
have written (``street.tam``, ``chat.tam``, ``qwen.tam`` ...) and pictures. A block that starts with
``# needs ...`` (a model, a data set) is compiled and its ``tw.`` names are looked up, not run. Every
``tam-widgets ...`` command line (code blocks and inline) gets through argparse.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import matplotlib
import pytest

import tam_widgets as tw
from tam_widgets import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "tutorials" not in p.parts)
NEEDS = "# needs "


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def _write_inputs(folder: Path) -> None:
    """The files the pages name, made without a model."""
    from PIL import Image

    from tam_widgets.samples import sample_image
    from tam_widgets.testing.comparisons import model_records
    from tam_widgets.testing.fake_chat import Turn, conversation_record
    from tam_widgets.testing.records import small_record

    small_record().save(folder / "street.tam")
    conversation_record([Turn("Describe the image.", 3, images=1), Turn("And in this one?", [" A", " dog"], images=1)]
                        ).save(folder / "chat.tam")
    answers = [[" A", " black", " cat"], [" a", " bl", "ack", " cat"], [" the", " cat", " sleeps"]]
    for name, exp in zip(("qwen", "internvl", "llava"), model_records(answers)):
        exp.save(folder / f"{name}.tam")
    for name, photo in (("cat.jpg", "chelsea"), ("coffee.jpg", "coffee"), ("street.jpg", "astronaut")):
        Image.fromarray(sample_image(photo)).save(folder / name)


def _tw_names(src: str) -> list[str]:
    """``tw.a.b`` chains a block uses."""
    chains = []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Attribute):
            parts, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                parts.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id == "tw":
                chains.append(".".join(parts))
    return chains


def test_pages_have_examples():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"index.md", "install.md", "guide/explain.md", "guide/cli.md"} <= names
    runnable = [b for p in PAGES for b in python_blocks(p.read_text()) if not b.startswith(NEEDS)]
    assert len(runnable) >= 8


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_python_runs(page, tmp_path, monkeypatch):
    from tam_widgets.models import SUPPORTED

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tam_widgets.models.SUPPORTED", SUPPORTED)  # restored after: a page registers a family
    families = dict(SUPPORTED)
    _write_inputs(tmp_path)
    namespace: dict = {}
    try:
        for k, src in enumerate(python_blocks(page.read_text())):
            where = f"{page.relative_to(DOCS)} python block {k + 1}"
            code = compile(src, where, "exec")
            if src.startswith(NEEDS):
                for chain in _tw_names(src):
                    obj = tw
                    for part in chain.split("."):
                        assert hasattr(obj, part), f"{where} uses tw.{chain}, which does not exist"
                        obj = getattr(obj, part)
                continue
            try:
                exec(code, namespace)
            except Exception as e:  # name the block, so the page to fix is obvious
                pytest.fail(f"{where} fails: {type(e).__name__}: {e}\n{src}")
    finally:
        SUPPORTED.clear()
        SUPPORTED.update(families)


def test_pages_write_what_they_say(tmp_path, monkeypatch):
    """The runnable examples leave the files their text promises."""
    from tam_widgets.models import SUPPORTED

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    families = dict(SUPPORTED)
    _write_inputs(tmp_path)
    try:
        for page in PAGES:
            namespace: dict = {}
            for src in python_blocks(page.read_text()):
                if not src.startswith(NEEDS):
                    exec(compile(src, str(page), "exec"), namespace)
    finally:
        SUPPORTED.clear()
        SUPPORTED.update(families)
    for name in ("street.png", "copy.tam", "street.html", "compare.html", "chat.html", "board.html", "annotations.csv"):
        assert (tmp_path / name).is_file(), name
    assert len(list((tmp_path / "street_pngs").glob("*.png"))) == len(tw.Explanation.load("street.tam").explained)
    assert tw.Explanation.load(tmp_path / "copy.tam").answer == tw.Explanation.load("street.tam").answer


def command_lines(text: str) -> list[str]:
    """Every ``tam-widgets`` command of a page: in bash blocks (continuations joined, comments cut) and inline."""
    lines = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if "tam-widgets " in line or "-m tam_widgets " in line:
                lines.append(line)
    lines += re.findall(r"`(tam-widgets [^`]+)`", text)
    return lines


def test_page_commands_parse(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_run", lambda args: 0)
    seen = set()
    for page in PAGES:
        for line in command_lines(page.read_text()):
            argv = shlex.split(line)
            start = argv.index("tam_widgets") if "tam_widgets" in argv else argv.index("tam-widgets")
            argv = argv[start + 1:]
            seen.add(argv[0])
            if len(argv) == 1:  # a command named in the text, not run
                assert argv[0] in cli.COMMANDS, f"{page.name}: `{line}` names no command"
                continue
            try:
                code = cli.main(argv)
            except SystemExit as e:  # --help, or argparse refusing the line
                err = capsys.readouterr().err
                assert e.code == 0 and "--help" in argv, f"{page.name}: `{line}` does not parse: {err}"
                continue
            assert code == 0, f"{page.name}: `{line}` does not parse: {capsys.readouterr().err}"
    assert {"explain", "html", "evaluate", "compare", "compare-runs", "timeline", "board"} <= seen
