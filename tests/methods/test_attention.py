"""Attention and rollout: the rollout product by hand, and the maps against transformers' own outputs.attentions."""

from __future__ import annotations

import numpy as np
import torch

from tam_widgets.methods import compute
from tam_widgets.methods.attention import _impl_tree, attention_maps, rollout_matrix

A1 = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
A2 = torch.tensor([[1.0, 0.0, 0.0], [0.1, 0.9, 0.0], [0.6, 0.2, 0.2]])


def test_rollout_two_layers_by_hand():
    a1 = 0.5 * A1.double().numpy() + 0.5 * np.eye(3)
    a2 = 0.5 * A2.double().numpy() + 0.5 * np.eye(3)
    expected = a2 @ a1  # first layer first: R = A'_2 A'_1
    # e.g. row 1: A'_2[1] = [0.05, 0.95, 0], A'_1 rows 0, 1 = [1, 0, 0], [0.25, 0.75, 0]
    np.testing.assert_allclose(expected[1], [0.05 + 0.95 * 0.25, 0.95 * 0.75, 0.0])
    full = rollout_matrix([A1, A2])
    np.testing.assert_allclose(full.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(full.sum(1).numpy(), 1.0, atol=1e-12)  # rows are stochastic before slicing
    assert torch.equal(full.triu(1), torch.zeros(3, 3, dtype=torch.float64))  # causal in, causal out
    rows = torch.tensor([2, 1])
    np.testing.assert_allclose(rollout_matrix([A1, A2], rows).numpy(), expected[[2, 1]], atol=1e-12)


def test_rollout_row_normalises_the_augmented_maps():
    scaled = [2 * A1, 3 * A2]  # rows summing to 2 and 3: 0.5 A + 0.5 I is renormalised row by row
    full = rollout_matrix(scaled)
    np.testing.assert_allclose(full.sum(1).numpy(), 1.0, atol=1e-12)
    a1 = 0.5 * 2 * A1.double().numpy() + 0.5 * np.eye(3)
    a2 = 0.5 * 3 * A2.double().numpy() + 0.5 * np.eye(3)
    a1, a2 = a1 / a1.sum(1, keepdims=True), a2 / a2.sum(1, keepdims=True)
    np.testing.assert_allclose(full.numpy(), a2 @ a1, atol=1e-12)


def test_rollout_random_many_layers():
    gen = torch.Generator().manual_seed(0)
    layers = [torch.rand(6, 6, generator=gen).tril().softmax(-1) for _ in range(5)]
    full = rollout_matrix(layers)
    np.testing.assert_allclose(full.sum(1).numpy(), 1.0, atol=1e-12)
    rows = torch.tensor([5, 0, 3])
    np.testing.assert_allclose(rollout_matrix(layers, rows).numpy(), full[rows].numpy(), atol=1e-12)


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(1, keepdims=True), x.max(1, keepdims=True)
    return np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), 0)


def test_against_output_attentions(family_input):
    """The hook-captured maps equal transformers' outputs.attentions of a fully eager pass, head-averaged."""
    inp = family_input
    model = inp.model
    saved = _impl_tree(model.config)
    maps = attention_maps(inp)
    assert _impl_tree(model.config) == saved  # restored
    n = inp.inputs["input_ids"].shape[1]
    n_layers = len(model.get_decoder().layers)
    try:
        model.set_attn_implementation("eager")
        with torch.no_grad():
            out = model(**inp.inputs, use_cache=False, output_attentions=True)
    finally:
        model.set_attn_implementation(saved)
    text = [a for a in out.attentions if a is not None and a.dim() == 4 and a.shape[-2:] == (n, n)]
    assert len(text) == n_layers == len(maps)
    for ours, theirs in zip(maps, text):
        torch.testing.assert_close(ours, theirs[0].float().mean(0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.sum(-1).numpy(), 1.0, atol=1e-5)  # softmax rows
    rows = np.arange(inp.answer_start - 1, inp.answer_end - 1)
    heads = [a[0].double().mean(0).numpy() for a in text]
    expected = _minmax(heads[-1][rows][:, inp.visual_positions])
    np.testing.assert_allclose(compute("attention", inp), expected, atol=1e-5)
    flow = np.eye(n)
    for a in heads:
        aug = 0.5 * a + 0.5 * np.eye(n)
        flow = (aug / aug.sum(1, keepdims=True)) @ flow
    np.testing.assert_allclose(flow.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(compute("rollout", inp), _minmax(flow[rows][:, inp.visual_positions]), atol=1e-5)
    assert _impl_tree(model.config) == saved


def test_only_the_text_model_runs_eager(qwen_input):
    """The vision tower keeps its implementation while the text model is switched."""
    model = qwen_input.model
    seen = {}

    def spy(module, args, output):
        seen["text"] = model.config.text_config._attn_implementation
        seen["vision"] = model.config.vision_config._attn_implementation

    handle = model.get_decoder().layers[0].register_forward_hook(spy)
    try:
        compute("attention", qwen_input)
    finally:
        handle.remove()
    assert seen == {"text": "eager", "vision": "sdpa"}
    assert model.config.text_config._attn_implementation == "sdpa"


def test_selected_layers(llava_input):
    every = attention_maps(llava_input)
    (last,) = attention_maps(llava_input, [-1])
    assert torch.equal(last, every[-1])
