"""MkDocs hook: the nav's tutorials are every ``notebooks/*.ipynb``, in name order.

``docs/tutorials`` is a link to ``../notebooks``; mkdocs-jupyter renders the notebooks there as pages
(without running them). ``mkdocs.yml`` names this file under ``hooks:`` and writes ``Tutorials: TUTORIALS``
in its nav, so a new notebook appears in the site without editing ``mkdocs.yml``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
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
