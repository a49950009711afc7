"""TAM, its ablations, CAM and feature surgery against direct computations."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.core import tam_from_hidden
from tam_widgets.methods import compute

OPTIONS = {
    "tam": {},
    "eci_only": {"filter": None},
    "filter_only": {"eci": None},
    "eci_mean": {"eci": "mean"},
    "tam_gaussian": {"filter": "gaussian"},
    "tam_median": {"filter": "median"},
    "tam_adaptive_median": {"filter": "adaptive_median"},
}


def _direct(inp, **options):
    head = inp.adapter.lm_head()
    return tam_from_hidden(
        inp.hidden,
        head.weight.detach(),
        inp.input_ids,
        visual_positions=inp.visual_positions,
        prompt_positions=inp.context_positions,
        answer_start=inp.answer_start,
        grid=inp.grids,
        lm_head_bias=head.bias,
        **options,
    )


def _scores(inp) -> tuple[np.ndarray, np.ndarray]:
    """Class scores ``[n_v, V]`` by hand (float64) and the explained ids."""
    head = inp.adapter.lm_head()
    h = inp.hidden.detach().double().numpy()[inp.visual_positions]
    scores = h @ head.weight.detach().double().numpy().T
    if head.bias is not None:
        scores = scores + head.bias.detach().double().numpy()
    return scores, inp.input_ids[inp.answer_start : inp.answer_end].numpy()


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(1, keepdims=True), x.max(1, keepdims=True)
    return np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), 0)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_tam_family_matches_tam_from_hidden(family_input, name):
    expected = _direct(family_input, **OPTIONS[name]).flat_maps
    np.testing.assert_array_equal(compute(name, family_input), expected)


def test_cam_by_hand(family_input):
    scores, ids = _scores(family_input)
    expected = _minmax(np.maximum(scores[:, ids].T, 0))
    got = compute("cam", family_input)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    raw = _direct(family_input, eci=None, filter=None).flat_raw_maps
    np.testing.assert_allclose(got, _minmax(raw.astype(np.float64)), atol=1e-6)


def test_feature_surgery_by_hand(family_input):
    scores, ids = _scores(family_input)
    classes = np.unique(ids)
    common = scores[:, classes].mean(1, keepdims=True)
    expected = _minmax(np.maximum(scores[:, ids] - common, 0).T)
    np.testing.assert_allclose(compute("feature_surgery", family_input), expected, atol=2e-5)
