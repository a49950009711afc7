"""One self-contained HTML file of the token map explorer (no kernel, no network, no CDN).

The page inlines ``widget.css``, ``standalone.js`` and a page document (:func:`page_document`:
which view, the records with their JSON ``meta`` and binary buffers as base64, and the synced
state) and mounts the same view the notebook widget shows. Every piece of text reaches
the page as JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped,
and the page sets token text with ``textContent``: a token ``<script>`` shows as text.

    exp.to_html("cat.html")        # or tam_widgets.widgets.to_html(exp, "cat.html")
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..io import atomic_write
from ..record import Explanation
from .base import bundle, record_id
from .payload import build_payload, check_showable
from .state import page_state


def _b64(buf: Any) -> str:
    return base64.b64encode(bytes(buf)).decode("ascii")


def _script_json(obj: Any) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</script>``, no comment openers)."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline_script(code: str) -> str:
    """JavaScript source safe to place inside a classic ``<script>`` element."""
    return code.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(scripts: list[str], styles: list[str]) -> str:
    """The page's Content-Security-Policy: nothing from the network, only the given inline scripts and
    styles (by their SHA-256), pictures only from ``data:``/``blob:`` URLs.

    >>> print(content_security_policy(["x=1"], []).replace("; ", ";\\n"))
    default-src 'none';
    script-src 'sha256-HyBrEcI+KMwlDe1/wAmNOCOoRnpUNA8axOU1y4VEST8=';
    style-src 'none';
    img-src data: blob:;
    base-uri 'none';
    form-action 'none'
    """
    script_src = " ".join(_sha256(s) for s in scripts) or "'none'"
    style_src = " ".join(_sha256(s) for s in styles) or "'none'"
    return (
        f"default-src 'none'; script-src {script_src}; style-src {style_src}; img-src data: blob:; "
        "base-uri 'none'; form-action 'none'"
    )


PAGE_FORMAT = "tam-widgets-page"
PAGE_VERSION = 1
#: The views a page document can name (``js/src/views/``).
VIEWS = ("token_map",)


def record_document(rid: str, exp: Explanation, *, image_format: str = "auto") -> dict:
    """One record of a page document: ``{id, meta, buffers}``, every map inline, buffers base64-encoded."""
    payload = build_payload(exp, image_format=image_format, max_inline_bytes=2**62)
    buffers = {
        "maps": {k: _b64(v.reshape(-1)) for k, v in payload.maps.items()},
        "scales": _b64(payload.scales.reshape(-1)),
        "relevance": _b64(payload.relevance.reshape(-1).view("uint8")),
        "images": [_b64(b) for b in payload.images],
    }
    return {"id": rid, "meta": payload.meta, "buffers": buffers}


def page_document(view: str, records: list[Explanation], state: dict[str, Any] | None = None, *,
                  image_format: str = "auto") -> dict:
    """What a page shows: ``{format, version, view, records: [{id, meta, buffers}], state}``.

    The kernel's widgets and the static page share this shape (``js/README.md``); ``state`` is checked
    and completed with the defaults of :mod:`tam_widgets.widgets.state` against the first record.

    >>> from tam_widgets.testing.records import small_record
    >>> doc = page_document("token_map", [small_record()], {"method": "cam"})
    >>> doc["view"], doc["state"]["method"], doc["state"]["colormap"]  # the rest are the defaults
    ('token_map', 'cam', 'jet')
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; pages show {VIEWS}")
    if not records:
        raise ValueError("a page shows at least one record")
    for exp in records:
        check_showable(exp, "a page")
    return {
        "format": PAGE_FORMAT,
        "version": PAGE_VERSION,
        "view": view,
        "records": [record_document(record_id(k), exp, image_format=image_format) for k, exp in enumerate(records)],
        "state": page_state(records[0], **(state or {})),
    }


def write_page(doc: dict, path: str | os.PathLike | None = None, *, title: str | None = None,
               static: str | os.PathLike | None = None):
    """Write a page document as one self-contained HTML file (or return the HTML text when ``path`` is None).

    ``title`` defaults to the first record's title; ``static`` is the folder of the built bundle
    (default: the installed one). The file is written atomically (:func:`~tam_widgets.io.atomic_write`).

    >>> import tempfile
    >>> from tam_widgets.testing.records import small_record
    >>> doc = page_document("token_map", [small_record()])
    >>> path = write_page(doc, Path(tempfile.mkdtemp()) / "page.html", title="A cat")
    >>> "<title>A cat</title>" in path.read_text()
    True
    """
    folder = Path(static) if static is not None else None

    def asset(name: str) -> str:
        path = folder / name if folder is not None else bundle(name)
        return path.read_text(encoding="utf-8")

    css = asset("widget.css").replace("</style", "<\\/style")
    js = _inline_script(asset("standalone.js"))
    doc_id = f"tam-doc-{secrets.token_hex(4)}"
    if title is None:
        records = doc.get("records") or [doc]
        title = str(records[0].get("meta", {}).get("title", "tam-widgets"))
    page_css = "body{margin:16px;font-family:system-ui,sans-serif}"
    mount = (
        "TamWidgets.mount(document.getElementById("
        f"{json.dumps(doc_id + '-root')}), JSON.parse(document.getElementById({json.dumps(doc_id)}).textContent));"
    )
    csp = content_security_policy([js, mount], [css, page_css])
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            # .tam-page: the whole page (not only the view) follows the light/dark palette of theme.css
            '<html lang="en" class="tam-page"><head><meta charset="utf-8">',
            '<meta name="color-scheme" content="light dark">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{css}</style>",
            f"<style>{page_css}</style>",
            "</head><body>",
            f'<div id="{doc_id}-root"></div>',
            f'<script type="application/json" id="{doc_id}">{_script_json(doc)}</script>',
            f"<script>{js}</script>",
            f"<script>{mount}</script>",
            "</body></html>",
            "",
        ]
    )
    if path is None:
        return page
    return atomic_write(path, lambda f: f.write(page.encode("utf-8")))


def to_html(exp: Explanation, path: str | os.PathLike | None = None, *, title: str | None = None,
            image_format: str = "auto", **state: Any):
    """Write ``exp`` as one self-contained HTML page (or return the HTML text when ``path`` is None).

    ``state`` takes the starting synced attributes (``selected``, ``method``, ``colormap``,
    ``opacity``, ...; :mod:`tam_widgets.widgets.state`); ``image_format`` how pictures are encoded.
    The page is :func:`write_page` of a ``token_map`` :func:`page_document`.

    >>> import tempfile
    >>> from tam_widgets.testing.records import small_record
    >>> path = to_html(small_record(), Path(tempfile.mkdtemp()) / "cat.html", method="cam")
    >>> path.suffix, path.stat().st_size > 10_000  # one file, the viewer inlined: open it offline
    ('.html', True)
    """
    check_showable(exp, "to_html")
    for name in ("widget.css", "standalone.js"):
        bundle(name)
    doc = page_document("token_map", [exp], state, image_format=image_format)
    heading = title if title is not None else f"{doc['records'][0]['meta']['title']}: {exp.answer.strip()[:80]}"
    return write_page(doc, path, title=heading)
