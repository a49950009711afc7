"""Grad-CAM++ and Layer-CAM: gradients against finite differences, formulas by hand, model state untouched."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

from tam_widgets.methods import compute
from tam_widgets.methods.common import text_model
from tam_widgets.methods.gradient import layer_gradients


def _double_input(inp):
    """``inp`` on a float64 copy of its model (finite differences then agree to ~1e-8)."""
    model = copy.deepcopy(inp.model).double().eval()
    adapter = type(inp.adapter)(model, inp.adapter.processor)
    inputs = {k: (v.double() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in inp.inputs.items()}
    return dataclasses.replace(inp, model=model, adapter=adapter, inputs=inputs, hidden=inp.hidden.double())


def _logit_with_shift(inp, direction: torch.Tensor, eps: float, row: int) -> float:
    """The explained token's logit when ``eps * direction`` is added to the last decoder layer's input."""
    block = text_model(inp.model, inp.adapter).layers[-1]

    def shift(module, args, kwargs):
        return (args[0] + eps * direction, *args[1:]), kwargs

    handle = block.register_forward_pre_hook(shift, with_kwargs=True)
    try:
        with torch.no_grad():
            logits = inp.model(**inp.inputs, use_cache=False).logits[0]
    finally:
        handle.remove()
    p = inp.answer_start + row
    return float(logits[p - 1, int(inp.input_ids[p])])


def _derivative(f, eps: float = 4e-3) -> float:
    """Central differences with one Richardson step. The norms compute in float32 even in a float64 model, so eps
    cannot be tiny."""

    def central(h: float) -> float:
        return (f(h) - f(-h)) / (2 * h)

    return (4 * central(eps / 2) - central(eps)) / 3


@pytest.mark.parametrize("fixture", ["qwen_input", "llava_input"])
def test_gradient_matches_finite_differences(fixture, request):
    inp = _double_input(request.getfixturevalue(fixture))
    captured = []
    layer_gradients(inp, lambda a, g: captured.append((a, g)) or a.sum(-1))
    assert len(captured) == inp.answer_end - inp.answer_start
    n = inp.inputs["input_ids"].shape[1]
    vis = torch.as_tensor(inp.visual_positions)
    gen = torch.Generator().manual_seed(0)
    for row in (0, len(captured) - 1):
        grads = captured[row][1].double()
        assert torch.isfinite(grads).all() and grads.norm() > 0
        top = int(grads.norm(dim=1).argmax())
        single = torch.zeros_like(grads)
        single[top] = grads[top]
        for block in (grads, torch.randn(grads.shape, generator=gen, dtype=torch.float64), single):
            direction = torch.zeros(1, n, grads.shape[1], dtype=torch.float64)
            direction[0, vis] = block / block.norm()  # a unit direction over the visual tokens' activations
            fd = _derivative(lambda e, d=direction, r=row: _logit_with_shift(inp, d, e, r))
            analytic = float((grads * direction[0, vis]).sum())
            assert abs(fd - analytic) <= 1e-4 * float(grads.norm()), (row, fd, analytic)


@pytest.mark.parametrize("fixture", ["qwen_input", "llava_input"])
def test_gradient_matches_plain_autograd(fixture, request):
    """Independent computation: full-graph autograd to the recorded output of the second-to-last layer."""
    inp = request.getfixturevalue(fixture)
    captured = []
    layer_gradients(inp, lambda a, g: captured.append((a, g)) or a.sum(-1))
    vis = torch.as_tensor(inp.visual_positions)
    with torch.enable_grad():
        out = inp.model(**inp.inputs, use_cache=False, output_hidden_states=True)
        before_last = out.hidden_states[-2]  # (embeddings, layer 1, ..., final norm): the last layer's input
        for row, (acts, grads) in enumerate(captured):
            p = inp.answer_start + row
            (expected,) = torch.autograd.grad(
                out.logits[0, p - 1, int(inp.input_ids[p])], before_last, retain_graph=True
            )
            torch.testing.assert_close(acts, before_last[0, vis].detach(), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(grads, expected[0, vis], rtol=1e-4, atol=1e-6)
    inp.model.zero_grad(set_to_none=True)


def _gradcam_pp_numpy(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    g2, g3 = g**2, g**3
    denom = 2 * g2 + a.sum(0) * g3
    alpha = np.divide(g2, denom, out=np.zeros_like(g), where=(g != 0) & (denom != 0))
    w = (alpha * np.maximum(g, 0)).sum(0)
    return np.maximum(a @ w, 0)


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(1, keepdims=True), x.max(1, keepdims=True)
    return np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), 0)


@pytest.mark.parametrize("fixture", ["qwen_input", "llava_input"])
def test_formulas_by_hand(fixture, request):
    inp = request.getfixturevalue(fixture)
    captured = []
    layer_gradients(inp, lambda a, g: captured.append((a.double().numpy(), g.double().numpy())) or a.sum(-1))
    pp = _minmax(np.stack([_gradcam_pp_numpy(a, g) for a, g in captured]))
    lc = _minmax(np.stack([np.maximum((np.maximum(g, 0) * a).sum(-1), 0) for a, g in captured]))
    np.testing.assert_allclose(compute("gradcam_pp", inp), pp, atol=1e-5)
    np.testing.assert_allclose(compute("layercam", inp), lc, atol=1e-5)


def test_model_state_is_restored(llava_input):
    model = llava_input.model
    params = dict(model.named_parameters())
    before = {k: p.detach().clone() for k, p in params.items()}
    frozen = set(list(params)[::3])
    try:
        model.train()
        model.get_decoder().layers[0].eval()  # a mixed state must come back as it was
        for k in frozen:
            params[k].requires_grad_(False)
        modes = {name: m.training for name, m in model.named_modules()}
        flags = {k: p.requires_grad for k, p in params.items()}
        for name in ("gradcam_pp", "layercam"):
            compute(name, llava_input)
        assert {name: m.training for name, m in model.named_modules()} == modes
        assert {k: p.requires_grad for k, p in params.items()} == flags
        assert all(p.grad is None for p in params.values())
        for k, p in params.items():
            assert torch.equal(p, before[k]), k
        # train mode during the call does not change the maps (dropout is off for the pass)
        model.eval()
        np.testing.assert_array_equal(compute("layercam", llava_input), compute("layercam", llava_input))
    finally:
        model.eval()
        for p in params.values():
            p.requires_grad_(True)


def test_grad_disabled_caller(llava_input):
    with torch.no_grad():
        maps = compute("gradcam_pp", llava_input)
    np.testing.assert_array_equal(maps, compute("gradcam_pp", llava_input))


def test_graph_spans_only_the_last_layer(qwen_input):
    """Memory stays bounded: earlier layers run without autograd, the last layer's output needs grad."""
    layers = qwen_input.model.get_decoder().layers
    seen = []
    handles = [
        layer.register_forward_hook(lambda m, a, out, i=i: seen.append((i, out[0] if isinstance(out, tuple) else out)))
        for i, layer in enumerate(layers)
    ]
    try:
        compute("layercam", qwen_input)
    finally:
        for h in handles:
            h.remove()
    flags = {i: t.requires_grad for i, t in seen}
    assert flags == {**dict.fromkeys(range(len(layers) - 1), False), len(layers) - 1: True}
