"""Gradient methods (Grad-CAM++, Layer-CAM) on the input of the last text decoder layer.

The activations ``A`` are the hidden states entering the last decoder layer (the residual stream
after all earlier layers), ``[n_v, d]`` at the visual positions: channels are the ``d`` hidden
dimensions, the "spatial" axis the visual tokens. For the explained token at position ``p`` with id
``c`` the score is the logit ``y = logits[p - 1, c]`` and ``G = dy/dA``.

One teacher-forced pass: a pre-hook on the last layer swaps its input for a detached leaf that
requires grad, and every parameter is frozen for the duration, so the autograd graph spans the last
layer, the final norm and the LM head on the answer rows only (memory does not grow with depth).
Then one ``torch.autograd.grad(y_t, A, retain_graph=True)`` per token; no parameter ``.grad`` is
touched. Training flags and ``requires_grad`` are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .base import MethodInput, MethodUnavailable
from .common import forward, frozen, normalize_rows, predicting_positions, text_model
from .registry import register_method

#: index of the text decoder layer whose *input* is explained (-1: the last layer)
LAYER = -1


def check_gradients(model: torch.nn.Module, adapter: object = None) -> tuple[bool, str]:
    """Gradient methods need the text decoder layers and floating-point weights."""
    layers = text_model(model, adapter).layers
    if len(layers) == 0:
        return False, "the text model has no decoder layers"
    if not any(p.is_floating_point() for p in layers[-1].parameters()):
        return False, "the last decoder layer has no floating-point weights (quantised?): load it in float16/32"
    return True, ""


def layer_gradients(
    inp: MethodInput, combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], layer: int = LAYER
) -> torch.Tensor:
    """``combine(A, G)`` for every explained token, stacked: ``[n_answer, ...]``.

    ``A`` and ``G`` are float32 ``[n_v, d]``: the input activations of decoder layer ``layer`` at
    the visual positions and the gradient of the token's logit with respect to them.
    """
    model = inp.model
    block = text_model(model, inp.adapter).layers[layer]
    captured: list[torch.Tensor] = []

    def pre_hook(module, args, kwargs):
        hidden = args[0] if args else kwargs["hidden_states"]
        leaf = hidden.detach().requires_grad_(True)
        captured.append(leaf)
        if args:
            return (leaf, *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": leaf}

    keep = predicting_positions(inp)
    ids = inp.input_ids[inp.answer_start : inp.answer_end].tolist()
    handle = block.register_forward_pre_hook(pre_hook, with_kwargs=True)
    try:
        with frozen(model), torch.inference_mode(False), torch.enable_grad():
            _, logits = forward(inp, keep)
            if len(captured) != 1:
                raise MethodUnavailable(
                    f"expected one call of decoder layer {layer}, saw {len(captured)}: the model does not run "
                    "its text layers once per forward pass"
                )
            leaf = captured[0]
            if not logits.requires_grad:
                raise MethodUnavailable("the logits do not depend on the decoder layer's input through autograd")
            vis = torch.as_tensor(np.asarray(inp.visual_positions, np.int64), device=leaf.device)
            acts = leaf.detach()[0].index_select(0, vis).float()
            rows = []
            for k, c in enumerate(ids):
                (grad,) = torch.autograd.grad(logits[k, c], leaf, retain_graph=k + 1 < len(ids))
                rows.append(combine(acts, grad[0].index_select(0, vis).float()))
                del grad
    finally:
        handle.remove()
        captured.clear()
    return torch.stack(rows) if rows else torch.zeros(0, len(inp.visual_positions))


def gradcam_pp_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++ for one token: ``ReLU(sum_c w_c A_c)`` over the visual tokens ``[n_v]``.

    ``alpha = G^2 / (2 G^2 + sum_v A(v) G^3)`` (0 where ``G = 0`` or the denominator is 0), the
    exponential-free form of Grad-CAM++ for a score taken as is; ``w_c = sum_v alpha ReLU(G)``.
    """
    a, g = acts.double(), grads.double()
    g2 = g * g
    denom = 2 * g2 + a.sum(0, keepdim=True) * g2 * g
    ok = (g != 0) & (denom != 0)
    alpha = torch.where(ok, g2 / torch.where(ok, denom, torch.ones_like(denom)), torch.zeros_like(g))
    alpha = torch.nan_to_num(alpha, nan=0.0, posinf=0.0, neginf=0.0)
    weights = (alpha * g.clamp_min(0)).sum(0)
    return (a @ weights).clamp_min(0)


def layercam_map(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """Layer-CAM for one token: ``ReLU(sum_c ReLU(G_c) A_c)`` at each visual token ``[n_v]``."""
    return (grads.double().clamp_min(0) * acts.double()).sum(-1).clamp_min(0)


@register_method("gradcam_pp", check=check_gradients)
def gradcam_pp(inp: MethodInput) -> np.ndarray:
    """Grad-CAM++ on the input of the last text decoder layer (see :func:`gradcam_pp_map`)."""
    return normalize_rows(layer_gradients(inp, gradcam_pp_map))


@register_method("layercam", check=check_gradients)
def layercam(inp: MethodInput) -> np.ndarray:
    """Layer-CAM on the input of the last text decoder layer (see :func:`layercam_map`)."""
    return normalize_rows(layer_gradients(inp, layercam_map))
