"""MkDocs hook: the nav's tutorials are every ``notebooks/*.ipynb``, in name order.

``docs/tutorials`` is a link to ``../notebooks``; mkdocs-jupyter renders the notebooks there as pages
(without running them). ``mkdocs.yml`` names this file under ``hooks:`` and writes ``Tutorials: TUTORIALS``
in its nav, so a new notebook appears in the site without editing ``mkdocs.yml``. A page that says
``<!-- cli-help -->`` gets every command's ``--help`` there.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PLACEHOLDER = "TUTORIALS"


def notebooks() -> list[Path]:
    """The tutorials, in name order (01_..., 02_...)."""
    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not found:
        raise PluginError(f"no tutorials: {NOTEBOOKS} holds no .ipynb file")
    return found


def on_config(config):
    """Put the tutorials in the nav where ``mkdocs.yml`` says ``TUTORIALS``."""
    for k, entry in enumerate(config["nav"] or []):
        if isinstance(entry, dict) and PLACEHOLDER in entry.values():
            (title,) = entry
            config["nav"][k] = {title: [f"tutorials/{p.name}" for p in notebooks()]}
            return config
    raise PluginError(f"mkdocs.yml: no nav entry '<title>: {PLACEHOLDER}' to put the tutorials in")


CLI_HELP = "<!-- cli-help -->"


def cli_help(*argv: str) -> str:
    """What ``tam-widgets ARGV --help`` prints on an 80-column terminal."""
    import contextlib
    import io
    import os

    from tam_widgets import cli

    out, columns = io.StringIO(), os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            cli.main([*argv, "--help"])
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return out.getvalue().rstrip()


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Put every command's ``--help`` where a page says ``<!-- cli-help -->`` (the CLI states it once)."""
    if CLI_HELP not in markdown:
        return markdown
    if str(ROOT) not in sys.path:  # the help of this checkout's CLI, whichever tam_widgets is installed
        sys.path.insert(0, str(ROOT))
    from tam_widgets.cli import COMMANDS

    parts = ["```text", cli_help(), "```"]
    for name in COMMANDS:
        parts += ["", f"## tam-widgets {name}", "", "```text", cli_help(name), "```"]
    return markdown.replace(CLI_HELP, "\n".join(parts))
