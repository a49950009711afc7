"""``TokenMapView``: the token map explorer, an anywidget over one :class:`Explanation`.

    view = tw.TokenMapView(exp)          # or just display(exp)
    view                                 # token strip + heatmaps + candidates + readout
    view.selected = 12                   # pin token 12 from Python; clicks set it from the page
    view.observe(lambda ch: print(exp.tokens[ch["new"]].text), "selected")

The page code is ``tam_widgets/static/widget.js``, bundled from ``js/`` (``make js``); what travels
between kernel and page is described in :mod:`tam_widgets.widgets.payload` and ``js/README.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..record import Explanation, Token
from . import state
from .base import BUNDLE_HINT, REQUEST_FORMAT, STATIC, RecordsWidget, answer_message, bundle
from .payload import MAX_INLINE_BYTES, Payload, check_showable
from .snapshot import snapshot_png, summary_text
from .state import COLORMAPS, check_region, starting_point

__all__ = [
    "BUNDLE_HINT", "COLORMAPS", "REQUEST_FORMAT", "STATIC", "TokenMapView", "answer_message", "bundle",
    "check_region", "region_shares", "starting_point",
]


class TokenMapView(RecordsWidget):
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
        snapshot: put a static PNG of the view and a text summary in its display output (default
            ``tam_widgets.widgets.snapshot.ENABLED``, True), so a notebook saved with its outputs
            shows the picture where the widget cannot run (GitHub, nbconvert, no kernel).

    Synced attributes (read, set and ``observe`` them from Python; defaults and checks in
    :mod:`tam_widgets.widgets.state`): ``selected``, ``method``, ``colormap``, ``opacity``,
    ``show_specials``, ``frame`` (video frame shown) and ``region`` (``[]`` or
    ``[grid, frame, x0, y0, x1, y1]``, a box dragged on a picture, in stored pixels).

    >>> from tam_widgets.testing.records import small_record  # a hand-made record, no model
    >>> view = TokenMapView(small_record(), method="cam", colormap="viridis")
    >>> view.token.text, view.method
    (' A', 'cam')
    >>> view.select(13)  # pin another answer token
    >>> view.token.text
    ' cat'
    """

    VIEW = "token_map"

    selected = state.trait("selected")
    method = state.trait("method")
    colormap = state.trait("colormap")
    opacity = state.trait("opacity")
    show_specials = state.trait("show_specials")
    frame = state.trait("frame")
    region = state.trait("region")

    def _shown(self) -> Explanation | None:
        return getattr(self, "explanation", None)

    _check_selected = state.validator("selected", _shown)
    _check_method = state.validator("method", _shown)
    _check_colormap = state.validator("colormap", _shown)
    _check_opacity = state.validator("opacity", _shown)
    _check_show_specials = state.validator("show_specials", _shown)
    _check_frame = state.validator("frame", _shown)
    _check_region = state.validator("region", _shown)

    def __init__(
        self,
        explanation: Explanation,
        *,
        selected: int | Token | None = None,
        method: str | None = None,
        colormap: str = state.ATTRS["colormap"].default,
        opacity: float = state.ATTRS["opacity"].default,
        image_format: str = "auto",
        max_inline_bytes: int = MAX_INLINE_BYTES,
        snapshot: bool | None = None,
        **kwargs: Any,
    ) -> None:
        check_showable(explanation, "TokenMapView")
        first, method = starting_point(explanation, selected, method)
        super().__init__([explanation], image_format=image_format, max_inline_bytes=max_inline_bytes,
                         snapshot=snapshot, method=method, colormap=colormap, opacity=opacity, **kwargs)
        self.explanation = explanation
        self.payload: Payload = self.payloads["r0"]
        self.method = method  # checked now that the record is known
        self.selected = first

    def _shown_token(self) -> int:
        """The token the static picture shows: the selected one, else the one the view starts on."""
        return self.selected if self.selected >= 0 else starting_point(self.explanation, None, self.method)[0]

    def _picture(self) -> bytes:
        """The shown token's map over the pictures, in the view's method, colours and frame (PNG)."""
        return snapshot_png(self.explanation, self._shown_token(), self.method, self.colormap, self.frame)

    def _summary(self) -> str:
        """Model, prompt, answer and the shown token."""
        return summary_text(self.explanation, self._shown_token(), self.method, pinned=self.selected >= 0)

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
