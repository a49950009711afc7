"""Display rules shared by the figure, the PNGs and the widgets, and the hook that shows a record.

* :data:`METHOD_INFO`: THE vocabulary of stored map kinds (name -> label and legend text);
  :data:`tam_widgets.explain.RECORD_METHODS` and the widgets derive from it.
* :func:`display_scale`: the one rule putting a token's maps on ``[0, 1]``.
* :data:`DARK_TEXT_LUMINANCE` / :func:`text_is_dark`: the one dark-text rule (figure strip and page).
* :func:`method_label`, :func:`legend_text`, :func:`provenance`, :func:`format_prob`, :func:`escape_controls`.
* :func:`register_viewer`: how a record learns to show itself (the widgets package registers its
  explorer at import), so nothing in :mod:`tam_widgets.record` imports :mod:`tam_widgets.widgets`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

METHOD_INFO: dict[str, tuple[str, str]] = {
    "tam": (
        "TAM",
        "TAM activation: 0 = none, 1 = this token's strongest evidence over image and text together "
        "(a faint map: stronger evidence was in the text)",
    ),
    "cam": (
        "CAM (baseline)",
        "CAM: ReLU class score, scaled per token so that its peak in the pictures is 1 (not comparable with TAM)",
    ),
    "eci_only": (
        "ECI only (no filter)",
        "TAM without the filter: 0 = none, 1 = this token's strongest evidence over image and text together",
    ),
    "filter_only": (
        "filter only (no ECI)",
        "CAM scaled together with the text (1 = strongest over image and text), then rank-Gaussian filtered; "
        "earlier words' interference not removed",
    ),
}
"""Every map kind a record may store: ``{kind: (its name in views, what its colour scale means)}``. The one
method vocabulary: each kind is also a method of :mod:`tam_widgets.methods` computing it.

>>> list(METHOD_INFO)
['tam', 'cam', 'eci_only', 'filter_only']
>>> METHOD_INFO["cam"][0]
'CAM (baseline)'
"""

DARK_TEXT_LUMINANCE = 0.22
"""Text on a background whose relative sRGB luminance (WCAG: linearised channels, weights 0.2126,
0.7152, 0.0722) is below this is drawn white, else black: the figure's strip and the page's strip.

>>> relative_luminance((0.0, 0.0, 0.5)) < DARK_TEXT_LUMINANCE  # dark blue: white text
True
"""

#: Control characters a view cannot show (tab, newline and carriage return lay out the text, so they stay).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with control characters other than tab, newline and carriage return as escapes (``\\x11``).

    >>> print(escape_controls("bell" + chr(0x11) + "here"))
    bell\\x11here
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def method_label(method: str) -> str:
    """The name views give a map kind; unknown kinds keep their name.

    >>> method_label("cam"), method_label("my_method")
    ('CAM (baseline)', 'my_method')
    """
    return METHOD_INFO.get(method, (method, ""))[0]


def legend_text(method: str) -> str:
    """What the colour scale of ``method``'s maps means, for legends and tooltips.

    >>> legend_text("tam")[:15], legend_text("mine")
    ('TAM activation:', 'mine activation (0-1)')
    """
    return METHOD_INFO.get(method, (method, f"{method} activation (0-1)"))[1]


def provenance(metadata: dict) -> str | None:
    """A warning every view and figure of the record shows, or ``None``: untrained models and synthetic data.

    >>> provenance({"untrained": True})
    'untrained model: the maps carry no meaning, this shows the pipeline running'
    """
    if metadata.get("untrained"):
        return "untrained model: the maps carry no meaning, this shows the pipeline running"
    if metadata.get("synthetic"):
        return "synthetic scene: no model involved, the maps come from built-in features"
    return None


def format_prob(p: float) -> str:
    """A probability as views show it: a percentage with 3 significant digits.

    >>> [format_prob(x) for x in (0.4123, 0.05, 0.00123, 1e-9, 1.0)]
    ['41.2%', '5%', '0.123%', '<0.001%', '100%']
    """
    pct = 100.0 * float(p)
    if not math.isfinite(pct):
        return "?"
    if pct < 0.001:
        return "<0.001%" if pct > 0 else "0%"
    return f"{float(f'{pct:.3g}'):g}%"


def relative_luminance(rgb: Sequence[float]) -> float:
    """WCAG relative luminance (0 black .. 1 white) of an sRGB colour given as floats in ``[0, 1]``.

    >>> round(relative_luminance((1.0, 1.0, 1.0)), 6), relative_luminance((0.0, 0.0, 0.0))
    (1.0, 0.0)
    """
    c = np.clip(np.asarray(rgb, np.float64)[:3], 0, 1)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def text_is_dark(rgb: Sequence[float]) -> bool:
    """Whether ``rgb`` (sRGB floats in ``[0, 1]``) is a dark background, so the text on it is drawn white.

    The one dark-text rule: relative luminance below :data:`DARK_TEXT_LUMINANCE` (the page applies
    the same rule from ``meta["dark_text_below"]``).

    >>> text_is_dark((0.5, 0.0, 0.0)), text_is_dark((1.0, 1.0, 0.6))
    (True, False)
    """
    return relative_luminance(rgb) < DARK_TEXT_LUMINANCE


def display_scale(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of maps ``[n, v]`` on the display scale ``[0, 1]`` (float32), with each row's ``lo`` and ``span``.

    A row whose values all lie in ``[0, 1]`` is shown as stored (``lo = 0, span = 1``: weak TAM maps stay
    faint), any other row is min-max scaled (a constant one shows as 0). NaN and infinities count as 0.
    The figure, the overlays and the widget's uint8 maps all use this one rule.

    >>> shown, lo, span = display_scale(np.array([[0, 0.5, 1], [-2, 0, 2]], np.float16))
    >>> shown.tolist(), lo.tolist(), span.tolist()
    ([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0]], [0.0, -2.0], [1.0, 4.0])
    """
    flat = np.nan_to_num(np.asarray(rows, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if flat.shape[1] == 0:
        n = flat.shape[0]
        return flat, np.zeros(n, np.float32), np.ones(n, np.float32)
    lo, hi = flat.min(axis=1), flat.max(axis=1)
    inside = (lo >= 0) & (hi <= 1)
    lo = np.where(inside, 0.0, lo).astype(np.float32)
    span = np.where(inside, 1.0, hi - lo).astype(np.float32)
    safe = np.where(span > 0, span, 1.0).astype(np.float32)[:, None]
    shown = np.where(span[:, None] > 0, (flat - lo[:, None]) / safe, np.float32(0))
    return shown, lo, span


# -- the viewer hook -----------------------------------------------------------------------------
_VIEWER: dict[str, Callable[..., Any]] = {}


def register_viewer(show: Callable[..., Any], to_html: Callable[..., Path]) -> None:
    """Tell records how to show themselves: ``show(exp, **view)`` returns a displayable widget and
    ``to_html(exp, path, **view)`` writes one offline page. :mod:`tam_widgets.widgets` calls this at import;
    registering again replaces the earlier viewer.

    Example::

        from tam_widgets.record import register_viewer
        from tam_widgets.widgets import TokenMapView, to_html

        register_viewer(TokenMapView, to_html)  # what `import tam_widgets.widgets` does
    """
    if not callable(show) or not callable(to_html):
        raise TypeError("register_viewer(show, to_html) takes two callables")
    _VIEWER.update(show=show, to_html=to_html)


def viewer(name: str) -> Callable[..., Any]:
    """The registered ``"show"`` or ``"to_html"``; ``RuntimeError`` saying what to import when none is."""
    try:
        return _VIEWER[name]
    except KeyError:
        raise RuntimeError(
            f"no viewer is registered for Explanation.{name}: import tam_widgets.widgets "
            "(import tam_widgets does so) to show records"
        ) from None
