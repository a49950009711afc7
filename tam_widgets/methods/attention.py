"""Attention methods: raw last-layer attention and attention rollout over the text model.

The attention weights come from a teacher-forced pass with the *text* model switched to eager
attention for the duration (``model.set_attn_implementation`` with the text sub-config set to
``"eager"``; every other sub-model keeps its implementation, and all are restored afterwards). They
are taken where transformers' ``outputs.attentions`` recorder takes them, the second output of each
text decoder layer's ``self_attn``, with a hook that averages the heads at once: memory holds one
``[N, N]`` float32 map per layer, never the ``[layers, heads, N, N]`` stack, and the vision tower's
attention is neither computed eagerly nor kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np
import torch

from .base import MethodInput, MethodUnavailable
from .common import forward, frozen, normalize_rows, predicting_positions, text_model
from .registry import register_method

REMEDY = (
    "needs attention weights: load the model with attn_implementation='eager' "
    "(e.g. AutoModelForImageTextToText.from_pretrained(..., attn_implementation='eager'))"
)


def _impl_tree(config) -> dict:
    """The attention implementation of ``config`` and its sub-configs, nested as ``set_attn_implementation`` takes."""
    tree: dict = {"": config._attn_implementation}
    for key in getattr(config, "sub_configs", {}) or {}:
        sub = getattr(config, key, None)
        if sub is not None:
            tree[key] = _impl_tree(sub)
    return tree


def _with_eager(tree: dict, config, target) -> dict:
    """``tree`` with the node of the config ``target`` (found by identity) set to ``"eager"``."""
    if config is target:
        return {**tree, "": "eager"}
    out = dict(tree)
    for key, sub_tree in tree.items():
        if key:
            out[key] = _with_eager(sub_tree, getattr(config, key), target)
    return out


def _contains(config, target) -> bool:
    if config is target:
        return True
    subs = (getattr(config, key, None) for key in getattr(config, "sub_configs", {}) or {})
    return any(sub is not None and _contains(sub, target) for sub in subs)


@contextmanager
def eager_text_attention(model: torch.nn.Module, adapter: object = None):
    """Switch the text model to eager attention for the duration; yields the text model.

    Raises:
        MethodUnavailable: the implementation cannot be switched to eager.
    """
    decoder = text_model(model, adapter)
    config = model.config
    if decoder.config._attn_implementation == "eager":
        yield decoder
        return
    if not hasattr(model, "set_attn_implementation"):
        raise MethodUnavailable(f"{type(model).__name__} cannot switch its attention implementation; {REMEDY}")
    saved = _impl_tree(config)
    request = _with_eager(saved, config, decoder.config) if _contains(config, decoder.config) else "eager"
    try:
        model.set_attn_implementation(request)
    except Exception as err:
        try:
            model.set_attn_implementation(saved)
        except Exception:
            pass
        raise MethodUnavailable(f"switching to eager attention failed ({err}); {REMEDY}") from err
    try:
        if decoder.config._attn_implementation != "eager":
            raise MethodUnavailable(f"{type(model).__name__} kept its attention implementation; {REMEDY}")
        yield decoder
    finally:
        model.set_attn_implementation(saved)


def check_attention(model: torch.nn.Module, adapter: object = None) -> tuple[bool, str]:
    """Attention methods need a text model that can run eager attention (probed by switching and back)."""
    with eager_text_attention(model, adapter) as decoder:
        if not all(hasattr(layer, "self_attn") for layer in decoder.layers):
            return False, f"the text decoder layers have no `self_attn` module to read the weights from; {REMEDY}"
    return True, ""


def attention_maps(inp: MethodInput, layers: Sequence[int] | None = None) -> list[torch.Tensor]:
    """Head-averaged attention of the text decoder layers ``layers`` (default all, first layer first).

    Each map is float32 ``[N, N]`` (row: query position, column: key position).

    Raises:
        MethodUnavailable: eager attention cannot be set, or the layers give no ``[1, heads, N, N]`` weights.
    """
    model = inp.model
    n = inp.inputs["input_ids"].shape[1]
    maps: dict[int, torch.Tensor | None] = {}
    problems: list[str] = []

    def hook_for(index: int):
        def hook(module, args, output):
            weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            maps[index] = None
            if not isinstance(weights, torch.Tensor):
                return None
            if weights.dim() != 4 or weights.shape[0] != 1 or weights.shape[-2:] != (n, n):
                problems.append(f"attention weights of shape {tuple(weights.shape)}, expected [1, heads, {n}, {n}]")
                return None
            maps[index] = weights[0].float().mean(0)
            return None

        return hook

    with eager_text_attention(model, inp.adapter) as decoder:
        n_layers = len(decoder.layers)
        wanted = sorted({i % n_layers for i in (range(n_layers) if layers is None else layers)})
        handles = [decoder.layers[i].self_attn.register_forward_hook(hook_for(i)) for i in wanted]
        try:
            with frozen(model), torch.no_grad():
                forward(inp, 1)
        finally:
            for h in handles:
                h.remove()
    if problems:
        raise MethodUnavailable(f"unexpected {problems[0]}; {REMEDY}")
    got = [i for i in wanted if maps.get(i) is not None]
    if len(got) != len(wanted):
        raise MethodUnavailable(f"got attention weights from {len(got)} of {len(wanted)} text layers; {REMEDY}")
    return [maps[i] for i in wanted]  # type: ignore[misc]


def rollout_matrix(attentions: Sequence[torch.Tensor], rows: torch.Tensor | None = None) -> torch.Tensor:
    """Attention rollout ``R = A'_L ... A'_1`` with ``A'_l = rownorm(0.5 A_l + 0.5 I)`` (float64).

    ``attentions`` are head-averaged ``[N, N]`` maps, first layer first. With ``rows`` only
    ``R[rows]`` is computed (right to left, ``O(len(rows) N^2)`` per layer).
    """

    def augmented(a: torch.Tensor) -> torch.Tensor:
        a = 0.5 * a.double() + 0.5 * torch.eye(a.shape[-1], dtype=torch.float64, device=a.device)
        return a / a.sum(-1, keepdim=True)

    n = attentions[0].shape[-1]
    dev = attentions[0].device
    if rows is None:
        out = torch.eye(n, dtype=torch.float64, device=dev)
        for a in attentions:
            out = augmented(a) @ out
        return out
    out = torch.eye(n, dtype=torch.float64, device=dev)[rows.to(dev)]
    for a in reversed(attentions):
        out = out @ augmented(a)
    return out


def _visual(inp: MethodInput, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(inp.visual_positions, np.int64), device=device)


@register_method("attention", check=check_attention)
def attention(inp: MethodInput) -> np.ndarray:
    """Last text layer's attention, mean over heads, from position ``p - 1`` of each token to the visual tokens."""
    (last,) = attention_maps(inp, [-1])
    rows = predicting_positions(inp).to(last.device)
    return normalize_rows(last[rows][:, _visual(inp, last.device)])


@register_method("rollout", check=check_attention)
def rollout(inp: MethodInput) -> np.ndarray:
    """Attention rollout over all text layers (:func:`rollout_matrix`), rows ``p - 1``, visual columns."""
    maps = attention_maps(inp)
    flow = rollout_matrix(maps, predicting_positions(inp))
    return normalize_rows(flow[:, _visual(inp, flow.device)])
