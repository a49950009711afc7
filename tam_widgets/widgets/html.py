"""One self-contained HTML file of the token map explorer (no kernel, no network, no CDN).

The page inlines ``widget.css``, ``standalone.js`` and the data (JSON ``meta`` and the binary
buffers as base64) and mounts the same view the notebook widget shows. Every piece of text reaches
the page as JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped,
and the page sets token text with ``textContent``: a token ``<script>`` shows as text.

    exp.to_html("cat.html")        # or tam_widgets.widgets.to_html(exp, "cat.html")
"""

from __future__ import annotations

import base64
import html
import json
import os
import secrets
from typing import Any

from ..record import Explanation, atomic_write
from .payload import build_payload
from .view import COLORMAPS, bundle, starting_point


def _b64(buf: Any) -> str:
    return base64.b64encode(bytes(buf)).decode("ascii")


def _script_json(obj: Any) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</script>``, no comment openers)."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline_script(code: str) -> str:
    """JavaScript source safe to place inside a classic ``<script>`` element."""
    return code.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def document(
    exp: Explanation,
    *,
    selected: int | None = None,
    method: str | None = None,
    colormap: str = "jet",
    opacity: float = 0.55,
    image_format: str = "auto",
) -> dict:
    """The ``{state, meta, buffers}`` object the standalone page mounts (buffers base64-encoded)."""
    payload = build_payload(exp, image_format=image_format, max_inline_bytes=2**62)
    first, method = starting_point(exp, selected, method)
    if method not in exp.methods:
        raise ValueError(f"method {method!r} is not in this explanation: {exp.methods}")
    if colormap not in COLORMAPS:
        raise ValueError(f"colormap must be one of {COLORMAPS}, got {colormap!r}")
    if not 0 <= float(opacity) <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    state = {
        "selected": first,
        "method": method,
        "colormap": colormap,
        "opacity": float(opacity),
        "show_specials": False,
        "frame": 0,
        "region": [],
    }
    buffers = {
        "maps": {k: _b64(v.reshape(-1)) for k, v in payload.maps.items()},
        "scales": _b64(payload.scales.reshape(-1)),
        "relevance": _b64(payload.relevance.reshape(-1).view("uint8")),
        "images": [_b64(b) for b in payload.images],
    }
    return {"state": state, "meta": payload.meta, "buffers": buffers}


def to_html(exp: Explanation, path: str | os.PathLike | None = None, *, title: str | None = None, **view: Any):
    """Write ``exp`` as one self-contained HTML page (or return the HTML text when ``path`` is None).

    ``view`` takes the starting ``selected``, ``method``, ``colormap``, ``opacity`` and
    ``image_format``. The file is written atomically (:func:`~tam_widgets.record.atomic_write`).

        exp.to_html("cat.html")   # open it in any browser, from disk, offline
    """
    if not isinstance(exp, Explanation):
        raise TypeError(f"to_html takes an Explanation, got {type(exp).__name__}")
    if not exp.explained.size:
        raise ValueError("this explanation has no explained tokens, so there is no map to show")
    doc = document(exp, **view)
    css = bundle("widget.css").read_text(encoding="utf-8").replace("</style", "<\\/style")
    js = bundle("standalone.js").read_text(encoding="utf-8")
    doc_id = f"tam-doc-{secrets.token_hex(4)}"
    heading = title if title is not None else f"{doc['meta']['title']}: {exp.answer.strip()[:80]}"
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(heading)}</title>",
            f"<style>{css}</style>",
            "<style>body{margin:16px;font-family:system-ui,sans-serif}</style>",
            "</head><body>",
            f'<div id="{doc_id}-root"></div>',
            f'<script type="application/json" id="{doc_id}">{_script_json(doc)}</script>',
            f"<script>{_inline_script(js)}</script>",
            "<script>TamWidgets.mount(document.getElementById("
            f"{json.dumps(doc_id + '-root')}), JSON.parse(document.getElementById({json.dumps(doc_id)}).textContent));"
            "</script>",
            "</body></html>",
            "",
        ]
    )
    if path is None:
        return page
    return atomic_write(path, lambda f: f.write(page.encode("utf-8")))
