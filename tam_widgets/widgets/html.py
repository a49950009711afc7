"""One self-contained HTML file of the token map explorer (no kernel, no network, no CDN).

The page inlines ``widget.css``, ``standalone.js`` and the data (JSON ``meta`` and the binary
buffers as base64) and mounts the same view the notebook widget shows. Every piece of text reaches
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
from typing import Any

from ..io import atomic_write
from ..record import Explanation
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
    ``image_format``. The file is written atomically (:func:`~tam_widgets.io.atomic_write`).

        exp.to_html("cat.html")   # open it in any browser, from disk, offline
    """
    if not isinstance(exp, Explanation):
        raise TypeError(f"to_html takes an Explanation, got {type(exp).__name__}")
    if not exp.explained.size:
        raise ValueError("this explanation has no explained tokens, so there is no map to show")
    doc = document(exp, **view)
    css = bundle("widget.css").read_text(encoding="utf-8").replace("</style", "<\\/style")
    js = _inline_script(bundle("standalone.js").read_text(encoding="utf-8"))
    doc_id = f"tam-doc-{secrets.token_hex(4)}"
    heading = title if title is not None else f"{doc['meta']['title']}: {exp.answer.strip()[:80]}"
    page_css = "body{margin:16px;font-family:system-ui,sans-serif}"
    mount = (
        "TamWidgets.mount(document.getElementById("
        f"{json.dumps(doc_id + '-root')}), JSON.parse(document.getElementById({json.dumps(doc_id)}).textContent));"
    )
    csp = content_security_policy([js, mount], [css, page_css])
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(heading)}</title>",
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
