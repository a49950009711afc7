"""``TokenMapView``: the token map explorer, an anywidget over one :class:`Explanation`.

    view = tw.TokenMapView(exp)          # or just display(exp)
    view                                 # token strip + heatmaps + candidates + readout
    view.selected = 12                   # pin token 12 from Python; clicks set it from the page
    view.observe(lambda ch: print(exp.tokens[ch["new"]].text), "selected")

The page code is ``tam_widgets/static/widget.js``, bundled from ``js/`` (``make js``); what travels
between kernel and page is described in :mod:`tam_widgets.widgets.payload` and ``js/README.md``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..record import Explanation, Token
from .payload import MAX_INLINE_BYTES, Payload, build_payload

STATIC = Path(__file__).resolve().parent.parent / "static"
COLORMAPS = ("jet", "viridis", "inferno")
BUNDLE_HINT = (
    "the widget's JavaScript bundle is missing from {static}. In a source checkout run `make js` "
    "(needs Node.js >= 18 and npm; it runs `npm install && npm run build` in js/), or install tam-widgets "
    "from a wheel, which ships the bundle."
)


def bundle(name: str) -> Path:
    """Path of a built front-end file (``widget.js``, ``standalone.js``, ``widget.css``).

    Raises ``FileNotFoundError`` saying how to build it when it is missing.
    """
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(BUNDLE_HINT.format(static=STATIC))
    return path


def _class_asset(name: str) -> Path | str:
    """The asset's path for anywidget when built, else an empty module (``__init__`` then raises)."""
    path = STATIC / name
    return path if path.is_file() else ""


class TokenMapView(anywidget.AnyWidget):
    """Interactive token strip and per-token heatmaps of one :class:`Explanation`.

    Args:
        explanation: the record to show.
        selected: token index (into ``explanation.tokens``) or :class:`Token` to pin first;
            default: the first explained answer token.
        method: map kind to show (``explanation.methods``), default ``"tam"`` when present.
        colormap: ``"jet"``, ``"viridis"`` or ``"inferno"``.
        opacity: opacity of the heat layer in ``[0, 1]``.
        image_format: how pictures travel: ``"auto"`` (PNG when small, else JPEG), ``"png"``, ``"jpeg"``.
        max_inline_bytes: above this many bytes of maps the page fetches rows as it needs them.

    Synced attributes (read, set and ``observe`` them from Python): ``selected``, ``method``,
    ``colormap``, ``opacity``, ``show_specials``, ``frame`` (video frame shown) and ``region``
    (``[]`` or ``[grid, frame, x0, y0, x1, y1]``, a box dragged on a picture, in stored pixels).
    """

    _esm = _class_asset("widget.js")
    _css = _class_asset("widget.css")

    selected = traitlets.Int(-1).tag(sync=True)
    method = traitlets.Unicode("tam").tag(sync=True)
    colormap = traitlets.Unicode("jet").tag(sync=True)
    opacity = traitlets.Float(0.55).tag(sync=True)
    show_specials = traitlets.Bool(False).tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    region = traitlets.List([]).tag(sync=True)
    _payload = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        explanation: Explanation,
        *,
        selected: int | Token | None = None,
        method: str | None = None,
        colormap: str = "jet",
        opacity: float = 0.55,
        image_format: str = "auto",
        max_inline_bytes: int = MAX_INLINE_BYTES,
        **kwargs: Any,
    ) -> None:
        if not isinstance(explanation, Explanation):
            raise TypeError(f"TokenMapView shows an Explanation, got {type(explanation).__name__}")
        if not explanation.explained.size:
            raise ValueError("this explanation has no explained tokens, so there is no map to show")
        for name in ("widget.js", "widget.css"):
            bundle(name)
        if not str(self._esm).strip():
            raise FileNotFoundError(
                BUNDLE_HINT.format(static=STATIC) + " (built after tam_widgets was imported: restart the kernel)"
            )
        self.explanation = explanation
        self.payload: Payload = build_payload(explanation, image_format=image_format,
                                              max_inline_bytes=max_inline_bytes)
        first, method = starting_point(explanation, selected, method)
        super().__init__(method=method, colormap=colormap, opacity=opacity, **kwargs)
        self.selected = first
        self._payload = self.payload.buffers()
        self.on_msg(self._on_message)

    # -- validation ---------------------------------------------------------------------------
    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict) -> int:
        value = int(proposal["value"])
        exp = getattr(self, "explanation", None)
        if exp is None or value == -1:
            return value
        n = len(exp.tokens)
        if not 0 <= value < n:
            raise traitlets.TraitError(
                f"selected={value} is out of range for {n} tokens (-1 means none; "
                "view.select(-2) counts from the end)"
            )
        if value not in set(exp.explained.tolist()):
            raise traitlets.TraitError(
                f"token {value} ({exp.tokens[value].text!r}) has no map; explained tokens are "
                f"{exp.explained.tolist()[:20]}{' ...' if exp.explained.size > 20 else ''}"
            )
        return value

    @traitlets.validate("method")
    def _check_method(self, proposal: dict) -> str:
        exp = getattr(self, "explanation", None)
        if exp is not None and proposal["value"] not in exp.methods:
            raise traitlets.TraitError(f"method {proposal['value']!r} is not in this explanation: {exp.methods}")
        return proposal["value"]

    @traitlets.validate("colormap")
    def _check_colormap(self, proposal: dict) -> str:
        if proposal["value"] not in COLORMAPS:
            raise traitlets.TraitError(f"colormap must be one of {COLORMAPS}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("opacity")
    def _check_opacity(self, proposal: dict) -> float:
        value = float(proposal["value"])
        if not 0 <= value <= 1:
            raise traitlets.TraitError(f"opacity must be in [0, 1], got {value}")
        return value

    @traitlets.validate("frame")
    def _check_frame(self, proposal: dict) -> int:
        value = int(proposal["value"])
        exp = getattr(self, "explanation", None)
        frames = max((len(g.frames) for g in exp.grids), default=1) if exp is not None else None
        if value < 0 or (frames is not None and value >= frames):
            last = (frames or 1) - 1
            raise traitlets.TraitError(f"frame must be in 0..{last} (the frames of the longest video), got {value}")
        return value

    @traitlets.validate("region")
    def _check_region(self, proposal: dict) -> list:
        exp = getattr(self, "explanation", None)
        value = proposal["value"]
        if exp is None or (isinstance(value, (list, tuple)) and not value):
            return list(value)
        try:
            return check_region(exp, value)
        except ValueError as e:
            raise traitlets.TraitError(str(e)) from None

    # -- Python-side conveniences -------------------------------------------------------------
    @property
    def token(self) -> Token | None:
        """The pinned :class:`Token` (``None`` when nothing is selected)."""
        return None if self.selected < 0 else self.explanation.tokens[self.selected]

    def select(self, token: int | Token) -> None:
        """Pin ``token`` (an index into ``explanation.tokens`` or a :class:`Token`)."""
        self.selected = self.explanation.token_index(token)

    def region_shares(self) -> dict[int, float]:
        """For the current ``region``, each explained token's share of map mass inside the box.

        The same numbers the page colours the strip with ({token index: share}); empty without a region.
        """
        if not self.region:
            return {}
        grid, frame, *box = self.region
        shares = region_shares(self.payload, self.method, int(grid), int(frame), box)
        return {int(i): float(s) for i, s in zip(self.explanation.explained, shares)}

    # -- on-demand maps -----------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: list) -> None:
        """Answer a custom message from the page; a bad one gets an ``error`` reply, never an exception here."""
        reply, data = answer_message(self.payload, content)
        self.send(reply, [data] if data is not None else None)


REQUEST_FORMAT = '{type: "maps", method: <name>, start: <row>, stop: <row>} (integers, 0 <= start < stop)'


def _echo(value: Any) -> Any:
    """A request field sent back in the reply: JSON scalars as they came, anything else (NaN too) as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool, type(None))) else None


def answer_message(payload: Payload, content: Any) -> tuple[dict, bytes | None]:
    """The reply to a custom message from the page and its buffer (``None`` with an error reply).

    A ``maps`` request gets ``{type, method, start, stop}`` and the rows' uint8 bytes; anything the
    kernel cannot serve (not a dict, unknown type, missing or mistyped fields, rows out of range)
    gets the request's fields plus ``error``, a message saying what was wrong, and no buffer.

    >>> from tam_widgets.testing.records import small_record
    >>> p = build_payload(small_record())
    >>> answer_message(p, {"type": "maps", "method": "tam", "start": 0, "stop": 1})[0]
    {'type': 'maps', 'method': 'tam', 'start': 0, 'stop': 1}
    >>> answer_message(p, {"type": "maps", "method": "tam", "start": "0", "stop": 1})[0]["error"].split(";")[0]
    'bad maps request: start must be an integer, got str'
    """
    if not isinstance(content, dict):
        return {"type": "error", "error": f"a message to the kernel must be an object like {REQUEST_FORMAT}, "
                f"got {type(content).__name__}"}, None
    kind = content.get("type")
    if kind != "maps":
        error = f"unknown message type {_echo(kind)!r}: the page sends {REQUEST_FORMAT}"
        return {"type": _echo(kind), "error": error}, None
    reply = {k: _echo(content.get(k)) for k in ("type", "method", "start", "stop")}
    method, start, stop = (content.get(k) for k in ("method", "start", "stop"))
    problem = None
    if not isinstance(method, str):
        problem = f"method must be a string, got {type(method).__name__}"
    else:
        for name, v in (("start", start), ("stop", stop)):
            if isinstance(v, bool) or not isinstance(v, int):
                problem = f"{name} must be an integer, got {type(v).__name__}"
                break
    if problem is None:
        try:
            return reply, payload.rows(method, start, stop)
        except ValueError as e:
            problem = str(e)
    return {**reply, "error": f"bad maps request: {problem}; the page sends {REQUEST_FORMAT}"}, None


def check_region(exp: Explanation, value: Any) -> list:
    """``value`` as a region ``[grid, frame, x0, y0, x1, y1]`` of ``exp`` (ints, then floats), or ValueError.

    ``grid``/``frame`` are whole numbers naming a grid and one of its frames; the box is 4 finite numbers in
    the stored picture's pixels with some area (either corner order) that overlaps the picture.

    >>> from tam_widgets.testing.records import small_record
    >>> check_region(small_record(), [0, 0, 30, 40, 10, 20.5])
    [0, 0, 30.0, 40.0, 10.0, 20.5]
    """
    fmt = "region is [] or [grid, frame, x0, y0, x1, y1]: grid and frame whole numbers, the box in stored pixels"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 6:
        raise ValueError(f"{fmt}; got {value!r}")
    nums = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{fmt}; got {value!r} ({type(v).__name__} is not a number)")
        if not np.isfinite(float(v)):
            raise ValueError(f"{fmt}; got {value!r} (NaN and infinities are not positions)")
        nums.append(float(v))
    if not (nums[0].is_integer() and nums[1].is_integer()):
        raise ValueError(f"{fmt}; got {value!r} (grid and frame are indices, not fractions)")
    grid, frame = int(nums[0]), int(nums[1])
    if not 0 <= grid < len(exp.grids) or not 0 <= frame < len(exp.grids[grid].frames):
        frames = [f"{g.label!r}: {len(g.frames)}" for g in exp.grids]
        raise ValueError(f"region {value!r} names a grid/frame this explanation does not have (frames per grid: "
                         f"{', '.join(frames)})")
    x0, x1 = sorted(nums[2::2])
    y0, y1 = sorted(nums[3::2])
    h, w = exp.images[exp.grids[grid].frames[frame]].shape[:2]
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        raise ValueError(f"region {value!r} is an empty box; {fmt}")
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ValueError(f"region {value!r} lies outside its picture of {w}x{h} pixels; {fmt}")
    return [grid, frame, *nums[2:]]


def starting_point(exp: Explanation, selected: int | Token | None, method: str | None) -> tuple[int, str]:
    """The token and method a view starts on (notebook widget and HTML page alike).

    ``selected`` defaults to the first explained answer token (else the first explained one); a token
    without a map raises ``ValueError`` listing the explained tokens. ``method`` defaults to ``"tam"``
    when the record has it, else its first method (an unknown name is left for the caller to refuse).
    """
    if selected is None:
        answers = [int(i) for i in exp.explained.tolist() if exp.tokens[i].role == "answer"]
        first = answers[0] if answers else int(exp.explained[0])
    else:
        first = exp.token_index(selected)
    exp._row(first)
    if method is None:
        method = "tam" if "tam" in exp.methods else exp.methods[0]
    return first, method


def region_shares(payload: Payload, method: str, grid: int, frame: int, box: list[float]) -> np.ndarray:
    """Per explained token, the share of its uint8 map mass (all grids) inside ``box``.

    ``box`` is in the pixels of the picture under ``grid``'s ``frame``; every grid frame laid over that
    same picture counts (an InternVL thumbnail and its tiles alike), each cell with the fraction of its
    area inside the box: the numbers the page colours the strip with.
    """
    meta = payload.meta
    picture = meta["grids"][grid]["frames"][frame]
    x0, x1 = sorted(box[0::2])
    y0, y1 = sorted(box[1::2])
    weight = np.zeros(meta["n_visual"])
    for g in meta["grids"]:
        _, h, w = g["shape"]
        for f, (img, (bx0, by0, bx1, by1)) in enumerate(zip(g["frames"], g["boxes"])):
            if img != picture:
                continue
            xs, ys = np.linspace(bx0, bx1, w + 1), np.linspace(by0, by1, h + 1)
            fx = np.clip(np.minimum(xs[1:], x1) - np.maximum(xs[:-1], x0), 0, None) / np.diff(xs)
            fy = np.clip(np.minimum(ys[1:], y1) - np.maximum(ys[:-1], y0), 0, None) / np.diff(ys)
            start = g["offset"] + f * h * w
            weight[start : start + h * w] = (fy[:, None] * fx[None, :]).reshape(-1)
    maps = payload.maps[method].astype(np.float64)
    total = maps.sum(axis=1)
    return np.where(total > 0, (maps @ weight) / np.where(total > 0, total, 1), 0.0)
