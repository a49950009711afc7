"""Pure tensor math of Token Activation Maps: no model knowledge.

Entry points: :func:`tam_from_logits` and :func:`tam_from_hidden`. Building blocks:
:mod:`.scores` (class scores without the vocabulary), :mod:`.eci` (estimated causal inference),
:mod:`.filters` (rank Gaussian and the other denoisers), :mod:`.normalize` (the multimodal map),
:mod:`.reference` (the official code's computation, bit for bit).
"""

from .eci import eci
from .filters import FILTERS, apply_filter, rank_gaussian_filter
from .layout import TokenLayout, normalize_grids
from .result import TAMResult
from .scores import class_scores
from .synthetic import SyntheticExample, synthetic_example
from .tam import COMPAT_MODES, tam_from_hidden, tam_from_logits

__all__ = [
    "COMPAT_MODES",
    "FILTERS",
    "SyntheticExample",
    "TAMResult",
    "TokenLayout",
    "apply_filter",
    "class_scores",
    "eci",
    "normalize_grids",
    "rank_gaussian_filter",
    "synthetic_example",
    "tam_from_hidden",
    "tam_from_logits",
]
