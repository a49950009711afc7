"""Griffe extension for the API reference: this package's docstrings (reST-flavoured) as Markdown.

- a bare doctest block (``>>>`` lines and their output) becomes a ``pycon`` code block, without its
  ``# doctest:`` directives;
- a paragraph ending in ``::`` and the indented block after it become a ``python`` code block;
- ``:class:`~a.b.C``` and the other Sphinx roles become inline code (``C``).

The docstrings stay as they are in the code (``pytest --doctest-modules`` runs their examples).
"""

from __future__ import annotations

import re
import textwrap

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj|const):`~?([^`]+)`")
DOCTEST_FLAGS = re.compile(r"\s*# doctest:[^\n]*$")


def _role(match: re.Match) -> str:
    name = match.group(1)
    short = match.group(0).split("`")[1].startswith("~")
    return f"`{name.rsplit('.', 1)[-1] if short else name}`"


def to_markdown(text: str) -> str:
    """``text`` with doctest and ``::`` blocks fenced and Sphinx roles as inline code."""
    lines, out, k = text.splitlines(), [], 0
    while k < len(lines):
        line = lines[k]
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if line.startswith(">>>"):  # a doctest block at the margin (google sections parse their own)
            if out and out[-1].strip():
                out.append("")
            block = []
            while k < len(lines) and lines[k].strip():
                block.append(lines[k])
                k += 1
            out += ["```pycon", *(DOCTEST_FLAGS.sub("", b) for b in block), "```"]
            continue
        if stripped.endswith("::") and not stripped.startswith(">>>"):
            out.append(line[:-1] if line.rstrip()[:-2].strip() else "")
            k += 1
            block = []
            while k < len(lines) and (not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > len(indent)):
                block.append(lines[k])
                k += 1
            while block and not block[-1].strip():
                block.pop()
            body = textwrap.dedent("\n".join(block)).strip("\n").splitlines()
            out += ["", f"{indent}```python", *(indent + b if b else b for b in body), f"{indent}```", ""]
            continue
        out.append(ROLE.sub(_role, line))
        k += 1
    return "\n".join(out)


def _packages(module: griffe.Module):
    yield module
    for member in module.modules.values():
        if member.is_package or member.is_subpackage:
            yield from _packages(member)


class DocstringsAsMarkdown(griffe.Extension):
    """Rewrite every docstring with :func:`to_markdown` before mkdocstrings parses it, and document an
    exported function by the name it has at run time."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        """``from .compare_runs import compare_runs`` in a package's ``__init__``: at run time the name is the
        function, not the submodule griffe files it under; the reference shows the function."""
        for package in _packages(pkg):
            exports = {str(name) for name in package.exports or ()}
            for name, member in list(package.members.items()):
                if name in exports and member.is_module and name in member.members:
                    package.set_member(name, griffe.Alias(name, member.members[name], parent=package))
