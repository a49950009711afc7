"""Methods from the last hidden states and the LM head (no extra forward pass).

The class score of class ``c`` at position ``v`` is ``s_c(v) = h_v . W_c + b_c`` with ``h`` the
final-norm output (``inp.hidden``) and ``W, b`` the LM head. TAM and its ablations go through
:func:`~tam_widgets.core.tam_from_hidden` with the prompt text and earlier answers as context.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core import TAMResult, tam_from_hidden
from .base import MethodInput, MethodUnavailable
from .common import normalize_rows
from .registry import register_method


def _head(adapter: object, model: torch.nn.Module | None = None) -> torch.nn.Module:
    """The adapter's LM head (else ``model.get_output_embeddings()``), checked to be linear."""
    if adapter is not None:
        head = adapter.lm_head()
    else:
        head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    weight = getattr(head, "weight", None)
    if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
        raise MethodUnavailable(
            "needs a linear LM head: the adapter's lm_head() must return a module with a [V, d] `weight` "
            "(and optional `bias`); override Adapter.lm_head() for this model"
        )
    return head


def check_head(model: torch.nn.Module, adapter: object = None) -> tuple[bool, str]:
    """The hidden-state methods need a linear LM head (the adapter's, else ``get_output_embeddings()``)."""
    _head(adapter, model)
    return True, ""


def tam_result(inp: MethodInput, **options) -> TAMResult:
    """:func:`tam_from_hidden` on ``inp`` (context: ``inp.context_positions``; every image's grid)."""
    head = _head(inp.adapter)
    with torch.no_grad():
        return tam_from_hidden(
            inp.hidden,
            head.weight.detach(),
            inp.input_ids,
            visual_positions=inp.visual_positions,
            prompt_positions=inp.context_positions,
            answer_start=inp.answer_start,
            grid=list(inp.grids),
            lm_head_bias=None if getattr(head, "bias", None) is None else head.bias.detach(),
            **options,
        )


def _tam_maps(inp: MethodInput, **options) -> np.ndarray:
    return tam_result(inp, **options).flat_maps.astype(np.float32)


@register_method("tam", check=check_head)
def tam(inp: MethodInput) -> np.ndarray:
    """TAM: least-squares estimated causal inference (ECI) + rank Gaussian filter."""
    return _tam_maps(inp)


@register_method("cam", check=check_head)
def cam(inp: MethodInput) -> np.ndarray:
    """Class activation map ``ReLU(s_c(v))`` at the visual positions, min-max per token.

    The head is linear, so this is also Grad-CAM on the last hidden state (the gradient of
    ``s_c`` with respect to ``h_v`` is ``W_c`` at every position).
    """
    return normalize_rows(tam_result(inp, eci=None, filter=None).flat_raw_maps)


@register_method("eci_only", check=check_head)
def eci_only(inp: MethodInput) -> np.ndarray:
    """TAM without the filter."""
    return _tam_maps(inp, filter=None)


@register_method("filter_only", check=check_head)
def filter_only(inp: MethodInput) -> np.ndarray:
    """TAM without ECI: the rank Gaussian filter on the class activation map."""
    return _tam_maps(inp, eci=None)


@register_method("eci_mean", check=check_head)
def eci_mean(inp: MethodInput) -> np.ndarray:
    """TAM with the plain mean of the context maps as the interference estimate."""
    return _tam_maps(inp, eci="mean")


@register_method("tam_gaussian", check=check_head)
def tam_gaussian(inp: MethodInput) -> np.ndarray:
    """TAM with a plain 3x3 Gaussian filter."""
    return _tam_maps(inp, filter="gaussian")


@register_method("tam_median", check=check_head)
def tam_median(inp: MethodInput) -> np.ndarray:
    """TAM with a 3x3 median filter."""
    return _tam_maps(inp, filter="median")


@register_method("tam_adaptive_median", check=check_head)
def tam_adaptive_median(inp: MethodInput) -> np.ndarray:
    """TAM with an adaptive median filter (3x3 up to 7x7)."""
    return _tam_maps(inp, filter="adaptive_median")


def class_scores(inp: MethodInput, class_ids: torch.Tensor) -> torch.Tensor:
    """``s_c(v)`` for the classes ``class_ids`` at the visual positions: float32 ``[n_v, n_classes]``."""
    head = _head(inp.adapter)
    weight, bias = head.weight, getattr(head, "bias", None)
    with torch.no_grad():
        vis = torch.as_tensor(np.asarray(inp.visual_positions, np.int64), device=inp.hidden.device)
        h = inp.hidden.index_select(0, vis).float()
        w = weight.index_select(0, class_ids.to(weight.device)).float().to(h.device)
        scores = h @ w.T
        if bias is not None:
            scores = scores + bias.index_select(0, class_ids.to(bias.device)).float().to(h.device)
    return scores


@register_method("feature_surgery", check=check_head)
def feature_surgery(inp: MethodInput) -> np.ndarray:
    """CLIP-Surgery-style redundancy removal on the class activation map.

    With ``C`` the distinct explained classes, ``map_t(v) = ReLU(s_{c_t}(v) - mean_{c in C} s_c(v))``,
    min-max per token. For a linear head this is CLIP Surgery's feature-level subtraction of the
    class-mean feature. With a single distinct class every map is 0.
    """
    ids = inp.input_ids[inp.answer_start : inp.answer_end].cpu()
    classes, inverse = torch.unique(ids, return_inverse=True)
    scores = class_scores(inp, classes)  # [n_v, n_classes]
    common = scores.mean(1, keepdim=True)
    return normalize_rows((scores - common)[:, inverse.to(scores.device)].T.clamp_min(0))
