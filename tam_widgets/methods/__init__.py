"""Map-making methods: TAM, its ablations and the baselines it is compared with, under one signature.

Every method is ``fn(inp: MethodInput) -> np.ndarray``: float32 ``[n_answer, n_visual]``, one row
per token of ``inp.input_ids[answer_start:answer_end]``, columns along ``inp.visual_positions``,
values in ``[0, 1]`` (min-max per token, a constant map is 0; TAM and its variants keep
:func:`~tam_widgets.core.tam_from_hidden`'s joint visual-and-text normalisation), never NaN.

>>> import tam_widgets.methods as tm
>>> list(tm.METHODS)[:4]
['tam', 'cam', 'eci_only', 'filter_only']

Usage: ``maps = tm.compute("gradcam_pp", chat.method_input())``; ``tm.available("rollout", model)``
tells ``(ok, reason)`` beforehand. Add a method with::

    @tm.register_method("mine")
    def mine(inp: tm.MethodInput) -> np.ndarray: ...

=================== ==================================================================================
``tam``             ECI (least squares) + rank Gaussian filter
``eci_only``        ECI, no filter
``filter_only``     rank Gaussian filter on the CAM, no ECI
``eci_mean``        ECI with the plain mean of the context maps, rank Gaussian filter
``tam_gaussian``    TAM with a Gaussian filter (also ``tam_median``, ``tam_adaptive_median``)
``cam``             ReLU of the class score at the visual tokens (= Grad-CAM for a linear head)
``feature_surgery`` CAM minus the mean score of the explained classes (CLIP Surgery), ReLU
``gradcam_pp``      Grad-CAM++ on the input of the last text decoder layer
``layercam``        Layer-CAM on the input of the last text decoder layer
``attention``       last text layer's attention (mean over heads) from the predicting position
``rollout``         attention rollout over all text layers (0.5 A + 0.5 I)
=================== ==================================================================================
"""

from __future__ import annotations

from . import activation, attention, gradient  # noqa: F401  (register the built-in methods)
from .base import MethodInput, MethodUnavailable
from .registry import METHODS, available, compute, register_method, validate

__all__ = ["METHODS", "MethodInput", "MethodUnavailable", "available", "compute", "register_method", "validate"]
