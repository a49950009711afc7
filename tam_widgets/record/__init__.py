"""The ``Explanation`` record, by concept (every name importable from here as before):

============================ ==========================================================================
:mod:`.model`                the data model (:class:`Explanation`, :class:`Token`, :class:`VisualGrid`),
                             validation, lookup, overlays
:mod:`.tamfile`              the ``.tam`` file format (:data:`FORMAT`, :data:`VERSION`), save and load
:mod:`.figure`               the paper-style figure and the overlay PNGs
:mod:`.display`              display rules shared with the widgets: :data:`METHOD_INFO` (the method
                             vocabulary), :func:`display_scale`, the dark-text rule, labels, and the
                             viewer hook (:func:`register_viewer`)
============================ ==========================================================================

Word grouping lives in :mod:`tam_widgets.words`, atomic writes in :mod:`tam_widgets.io`. Nothing here
imports :mod:`tam_widgets.widgets` or torch.
"""

from ..io import atomic_write
from ..words import cover_words, group_words
from .display import (
    DARK_TEXT_LUMINANCE,
    METHOD_INFO,
    display_scale,
    escape_controls,
    format_prob,
    legend_text,
    method_label,
    provenance,
    register_viewer,
    relative_luminance,
    text_is_dark,
)
from .model import ROLES, Explanation, RecordError, Token, VisualGrid
from .tamfile import BOMB_FLOOR, FORMAT, MAX_HEADER_BYTES, MAX_HEADER_DEPTH, MAX_RATIO, VERSION

__all__ = [
    "BOMB_FLOOR",
    "DARK_TEXT_LUMINANCE",
    "FORMAT",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_DEPTH",
    "MAX_RATIO",
    "METHOD_INFO",
    "ROLES",
    "VERSION",
    "Explanation",
    "RecordError",
    "Token",
    "VisualGrid",
    "atomic_write",
    "cover_words",
    "display_scale",
    "escape_controls",
    "format_prob",
    "group_words",
    "legend_text",
    "method_label",
    "provenance",
    "register_viewer",
    "relative_luminance",
    "text_is_dark",
]
