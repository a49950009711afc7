"""The registry API, the method contract on every family, and refusals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import tam_widgets.methods as tm
from tam_widgets.methods import METHODS, MethodUnavailable, available, compute, register_method

from .conftest import explainer, small_photo

EXPECTED = {
    "tam", "cam", "eci_only", "filter_only", "eci_mean", "tam_gaussian", "tam_median", "tam_adaptive_median",
    "feature_surgery", "gradcam_pp", "layercam", "attention", "rollout",
}  # fmt: skip


def _check_contract(maps: np.ndarray, inp: tm.MethodInput) -> None:
    n_answer = len(inp.input_ids[inp.answer_start : inp.answer_end])
    assert maps.shape == (n_answer, len(inp.visual_positions))
    assert maps.dtype == np.float32
    assert np.isfinite(maps).all()
    assert maps.min() >= 0 and maps.max() <= 1


def test_registry_names():
    assert EXPECTED <= set(METHODS)
    assert all(callable(fn) for fn in METHODS.values())


def test_every_method_on_every_family(family_input):
    for name in EXPECTED:
        ok, reason = available(name, family_input.model, family_input.adapter)
        assert ok and reason == "", (name, reason)
        _check_contract(compute(name, family_input), family_input)
        _check_contract(METHODS[name](family_input), family_input)  # direct calls keep the contract too


def test_min_max_per_token(family_input):
    for name in ("cam", "feature_surgery", "gradcam_pp", "layercam", "attention", "rollout"):
        maps = compute(name, family_input)
        for row in maps:  # each row reaches 1 at its maximum and 0 at its minimum, or is all 0
            assert (row.max() == 1 and row.min() == 0) or not row.any(), name


def test_two_images_and_second_turn():
    chat = explainer("qwen2_vl").chat(images=[small_photo("astronaut"), small_photo("chelsea")])
    chat.ask("What differs?")
    chat.ask("And the colour?")
    for turn in (0, -1):
        inp = chat.method_input(turn)
        assert len(inp.grids) == 2
        for name in METHODS:
            _check_contract(compute(name, inp), inp)


def test_unknown_name(qwen_input):
    with pytest.raises(ValueError, match="unknown method 'nope'.*tam.*rollout"):
        compute("nope", qwen_input)
    with pytest.raises(ValueError, match="choose one of"):
        available("nope", qwen_input.model)


def test_register_and_validate(qwen_input):
    @register_method("_ones")
    def ones(inp):
        return np.ones((inp.answer_end - inp.answer_start, len(inp.visual_positions)), np.float64)

    @register_method("_bad_shape")
    def bad_shape(inp):
        return np.zeros((1, 1), np.float32)

    @register_method("_nan")
    def nan(inp):
        return np.full((inp.answer_end - inp.answer_start, len(inp.visual_positions)), np.nan)

    try:
        out = compute("_ones", qwen_input)
        assert out.dtype == np.float32 and (out == 1).all()
        with pytest.raises(RuntimeError, match="shape"):
            compute("_bad_shape", qwen_input)
        with pytest.raises(RuntimeError, match="NaN"):
            compute("_nan", qwen_input)
    finally:
        for name in ("_ones", "_bad_shape", "_nan"):
            METHODS.pop(name)


def test_attention_unavailable_when_eager_cannot_be_set(qwen_input, monkeypatch):
    model = qwen_input.model
    before = model.config.text_config._attn_implementation

    def refuse(*args, **kwargs):
        raise ValueError("this model only runs flash attention")

    monkeypatch.setattr(model, "set_attn_implementation", refuse)
    for name in ("attention", "rollout"):
        ok, reason = available(name, model)
        assert not ok and "attn_implementation='eager'" in reason and "flash attention" in reason
        with pytest.raises(MethodUnavailable, match="needs attention weights.*attn_implementation='eager'"):
            compute(name, qwen_input)
        with pytest.raises(MethodUnavailable):
            METHODS[name](qwen_input)
    assert model.config.text_config._attn_implementation == before
    assert available("tam", model)[0] and available("gradcam_pp", model)[0]


def test_attention_unavailable_when_switch_is_ignored(llava_input, monkeypatch):
    monkeypatch.setattr(llava_input.model, "set_attn_implementation", lambda *a, **k: None)
    ok, reason = available("rollout", llava_input.model)
    assert not ok and "eager" in reason
    with pytest.raises(MethodUnavailable, match="kept its attention implementation"):
        compute("attention", llava_input)


class _NoHeadAdapter:
    def __init__(self, adapter):
        self.final_norm = adapter.final_norm

    def lm_head(self):
        return torch.nn.Identity()


def test_hidden_state_methods_need_a_linear_head(llava_input):
    inp = dataclasses.replace(llava_input, adapter=_NoHeadAdapter(llava_input.adapter))
    for name in ("tam", "cam", "feature_surgery", "tam_median"):
        ok, reason = available(name, inp.model, inp.adapter)
        assert not ok and "lm_head()" in reason
        with pytest.raises(MethodUnavailable, match="linear LM head"):
            compute(name, inp)
    assert available("gradcam_pp", inp.model, inp.adapter)[0]


def test_gradient_methods_need_decoder_layers(llava_input, monkeypatch):
    monkeypatch.setattr(llava_input.model, "get_decoder", lambda: torch.nn.Identity())
    ok, reason = available("layercam", llava_input.model)
    assert not ok and "text decoder layers" in reason
