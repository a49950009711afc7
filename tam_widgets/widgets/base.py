"""What every view widget shares: the bundle, the records it shows, and the row protocol keyed by record.

A view is a thin :class:`RecordsWidget` subclass: ``_view`` names the front-end view
(``js/src/views/``) and ``_records`` holds one payload per record, ``{id, meta, maps, scales,
relevance, images}`` with ids ``"r0"``, ``"r1"``, ... The page asks for map rows it does not hold
with ``{type: "maps", request, record, method, start, stop}``; the reply carries the same fields
and one buffer, or the same fields plus ``error`` and no buffer (see ``js/README.md``).
"""

from __future__ import annotations

import base64
import math
import warnings
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..record import Explanation
from . import snapshot as snapshots
from .payload import MAX_INLINE_BYTES, Payload, build_payload, check_showable

STATIC = Path(__file__).resolve().parent.parent / "static"
BUNDLE_HINT = (
    "the widget's JavaScript bundle is missing from {static}. In a source checkout run `make js` "
    "(needs Node.js >= 18 and npm; it runs `npm install && npm run build` in js/), or install tam-widgets "
    "from a wheel, which ships the bundle."
)
REQUEST_FORMAT = (
    '{type: "maps", method: <name>, start: <row>, stop: <row>} (integers, 0 <= start < stop) '
    'plus record: <record id> and request: <integer id>'
)


def bundle(name: str) -> Path:
    """Path of a built front-end file (``widget.js``, ``standalone.js``, ``widget.css``).

    Raises ``FileNotFoundError`` saying how to build it when it is missing.

    >>> bundle("widget.js").name
    'widget.js'
    """
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(BUNDLE_HINT.format(static=STATIC))
    return path


def _class_asset(name: str) -> Path | str:
    """The asset's path for anywidget when built, else an empty module (``__init__`` then raises)."""
    path = STATIC / name
    return path if path.is_file() else ""


def record_id(k: int) -> str:
    """The id of the ``k``-th record of a view."""
    return f"r{k}"


def record_entry(rid: str, payload: Payload) -> dict:
    """One entry of ``_records``: the payload's buffers with the record's id."""
    return {"id": rid, **payload.buffers()}


def _echo(value: Any) -> Any:
    """A request field sent back in the reply: JSON scalars as they came, anything else (NaN too) as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool, type(None))) else None


def answer_message(payloads: dict[str, Payload] | Payload, content: Any) -> tuple[dict, bytes | None]:
    """The reply to a custom message from the page and its buffer (``None`` with an error reply).

    ``payloads`` maps record ids to what the view shows. A ``maps`` request gets its own fields
    (``type, request, record, method, start, stop``; ``request``/``record`` echoed when sent) and
    the rows' uint8 bytes of that record; a request without ``record`` is served when the view
    shows one record (a lone :class:`Payload` is record ``"r0"``). Anything the kernel cannot
    serve gets the request's fields plus ``error``, a message saying what was wrong, and no buffer.

    >>> from tam_widgets.testing.records import small_record
    >>> from tam_widgets.widgets.payload import build_payload
    >>> p = {"r0": build_payload(small_record())}
    >>> answer_message(p, {"type": "maps", "request": 7, "record": "r0", "method": "tam", "start": 0, "stop": 1})[0]
    {'type': 'maps', 'request': 7, 'record': 'r0', 'method': 'tam', 'start': 0, 'stop': 1}
    >>> answer_message(p, {"type": "maps", "record": "r1", "method": "tam", "start": 0, "stop": 1})[0]["error"][:40]
    "bad maps request: unknown record 'r1'; t"
    """
    if isinstance(payloads, Payload):
        payloads = {record_id(0): payloads}
    if not isinstance(content, dict):
        return {"type": "error", "error": f"a message to the kernel must be an object like {REQUEST_FORMAT}, "
                f"got {type(content).__name__}"}, None
    kind = content.get("type")
    if kind != "maps":
        error = f"unknown message type {_echo(kind)!r}: the page sends {REQUEST_FORMAT}"
        reply = {"type": _echo(kind)}
        reply.update({k: _echo(content[k]) for k in ("request", "record") if k in content})
        return {**reply, "error": error}, None
    fields = ("type", "request", "record", "method", "start", "stop")
    reply = {k: _echo(content.get(k)) for k in fields if k in content or k not in ("request", "record")}
    rid, request = content.get("record"), content.get("request")
    method, start, stop = (content.get(k) for k in ("method", "start", "stop"))
    problem = None
    if "request" in content and (isinstance(request, bool) or not isinstance(request, int)):
        problem = f"request must be an integer, got {type(request).__name__}"
    elif "record" not in content and len(payloads) != 1:
        problem = f"record is missing; this view shows records {list(payloads)}"
    elif "record" in content and (not isinstance(rid, str) or rid not in payloads):
        problem = f"unknown record {_echo(rid)!r}; this view shows records {list(payloads)}"
    elif not isinstance(method, str):
        problem = f"method must be a string, got {type(method).__name__}"
    else:
        for name, v in (("start", start), ("stop", stop)):
            if isinstance(v, bool) or not isinstance(v, int):
                problem = f"{name} must be an integer, got {type(v).__name__}"
                break
    if problem is None:
        payload = payloads[rid] if "record" in content else next(iter(payloads.values()))
        try:
            return reply, payload.rows(method, start, stop)
        except ValueError as e:
            problem = str(e)
    return {**reply, "error": f"bad maps request: {problem}; the page sends {REQUEST_FORMAT}"}, None


class RecordsWidget(anywidget.AnyWidget):
    """An anywidget over one or more :class:`Explanation` records (the base of every view).

    Subclasses set ``VIEW`` (the front end's view name) and add their synced attributes from
    :mod:`tam_widgets.widgets.state`. ``explanations`` / ``payloads`` hold the records by id.

    Its display output carries, beside the widget view, the view's static picture (``image/png``)
    and a ``text/plain`` summary (:meth:`_picture`, :meth:`_summary`; :mod:`tam_widgets.widgets.snapshot`), so a
    saved notebook shows the view without its widget model; ``snapshot=False`` (or
    ``tam_widgets.widgets.snapshot.ENABLED = False`` for every later view) leaves them out.

    Example: a new view over one record (its front end registers ``"my_view"`` in ``js/src/views/``)::

        from tam_widgets.widgets import RecordsWidget


        class MyView(RecordsWidget):
            VIEW = "my_view"

            def __init__(self, explanation, **kwargs):
                super().__init__([explanation], **kwargs)
    """

    VIEW = ""
    _esm = _class_asset("widget.js")
    _css = _class_asset("widget.css")

    _view = traitlets.Unicode("").tag(sync=True)
    _records = traitlets.List([]).tag(sync=True)

    def __init__(
        self,
        explanations: list[Explanation],
        *,
        image_format: str = "auto",
        max_inline_bytes: int = MAX_INLINE_BYTES,
        snapshot: bool | None = None,
        **kwargs: Any,
    ) -> None:
        name = type(self).__name__
        for exp in explanations:
            check_showable(exp, name)
        for asset in ("widget.js", "widget.css"):
            bundle(asset)
        if not str(self._esm).strip():
            raise FileNotFoundError(
                BUNDLE_HINT.format(static=STATIC) + " (built after tam_widgets was imported: restart the kernel)"
            )
        self.explanations = {record_id(k): exp for k, exp in enumerate(explanations)}
        self.payloads = {
            rid: build_payload(exp, image_format=image_format, max_inline_bytes=max_inline_bytes)
            for rid, exp in self.explanations.items()
        }
        super().__init__(_view=self.VIEW, **kwargs)
        self._records = [record_entry(rid, p) for rid, p in self.payloads.items()]
        self.snapshot = snapshots.ENABLED if snapshot is None else bool(snapshot)
        self.on_msg(self._on_message)

    def _summary(self) -> str | None:
        """The view's ``text/plain`` summary; ``None`` when the view gives none (the widget's repr stays)."""
        return None

    def _picture(self) -> bytes | None:
        """PNG bytes of what the view shows now; ``None`` when the view draws none."""
        return None

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        """The widget view plus, when ``snapshot`` is on, :meth:`_picture` as ``image/png`` and :meth:`_summary`
        as ``text/plain``.

        The picture is drawn only when the front end's ``include`` / ``exclude`` let ``image/png`` through
        (a terminal asks for text alone); one that cannot be drawn leaves the widget view alone, with a
        warning saying why.
        """
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None or not self.snapshot:
            return bundle
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        include, exclude = kwargs.get("include"), kwargs.get("exclude")
        summary = self._summary()
        if summary is not None:
            data = {**data, "text/plain": summary}
        if (include and "image/png" not in include) or (exclude and "image/png" in exclude):
            return data, metadata
        try:
            png = self._picture()
        except Exception as e:  # the live view must still show
            warnings.warn(f"{type(self).__name__}: no static picture in the output ({type(e).__name__}: {e})",
                          stacklevel=2)
            return data, metadata
        if png is not None:
            data = {**data, "image/png": base64.b64encode(png).decode("ascii")}
        return data, metadata

    def _on_message(self, _widget: Any, content: Any, _buffers: list) -> None:
        """Answer a custom message from the page; a bad one gets an ``error`` reply, never an exception here."""
        reply, data = answer_message(self.payloads, content)
        self.send(reply, [data] if data is not None else None)
