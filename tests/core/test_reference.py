"""compat="reference" reproduces the official TAM code's outputs exactly."""

import numpy as np
import pytest
import torch

from tam_widgets.core import tam_from_hidden, tam_from_logits


@pytest.mark.parametrize("compat", ["reference", "official"])
def test_golden_maps_exact(golden, compat):
    r = tam_from_logits(golden["logits"], golden["tokens"], compat=compat, **golden["layout"])
    assert r.maps.dtype == np.uint8
    assert r.maps.shape == golden["maps"].shape
    np.testing.assert_array_equal(r.maps, golden["maps"])


def test_golden_intermediates(golden):
    r = tam_from_logits(torch.from_numpy(golden["logits"]), golden["tokens"], compat="reference", **golden["layout"])
    n_p = int(golden["n_p"])
    # The whole context list of raw maps, and the Brent scales of every returned round.
    np.testing.assert_array_equal(r.trace["context_raw_maps"], golden["raw_maps"])
    np.testing.assert_array_equal(r.scales[1:], golden["ls_s"][n_p:])
    assert r.scales[0] == 0
    np.testing.assert_allclose(r.scales[1:], golden["ls_s_closed"][n_p:], rtol=1e-6)
    # maps[0] explains the first prompt token; rounds r >= 1 the generated token r.
    L_in = int(golden["L_in"])
    assert r.token_positions[0] == golden["layout"]["prompt_positions"][0]
    assert list(r.token_positions[1:]) == list(range(L_in + 1, L_in + int(golden["n_a"])))
    assert r.text_relevance.shape == (int(golden["n_a"]), n_p + int(golden["n_a"]))
    assert np.isfinite(r.text_relevance).all()


def test_golden_rank_gaussian_filter_calls():
    """Every filter call of the official code, bit for bit, on any CPU.

    The first call ran in float32 (its map skipped ECI), every later one in float64. numpy's
    vectorised exp/pow kernels round differently by CPU (on AVX2/AVX-512 machines 31 float32 and
    1,736 float64 values were 1-4 ulp off the fixture); the reference filter uses the C library's.
    """
    from tam_widgets.core.filters import rank_gaussian_filter_reference
    from tests.conftest import load_golden

    g = load_golden("tam_ref_image_24x32.npz")
    first = rank_gaussian_filter_reference(g["rgf_in"][0].astype(np.float32))
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first.astype(np.float64), g["rgf_out"][0])
    np.testing.assert_array_equal(rank_gaussian_filter_reference(g["rgf_in"][1:]), g["rgf_out"][1:])


def test_reference_filter_does_not_depend_on_numpy_simd_kernels(monkeypatch):
    """Results stay the same when numpy's exp/power are replaced by deliberately different ones."""
    from tam_widgets.core import filters
    from tests.conftest import load_golden

    g = load_golden("tam_ref_image_24x32.npz")
    x = g["rgf_in"][1:4]
    want = filters.rank_gaussian_filter_reference(x)
    monkeypatch.setattr(np, "exp", lambda a, *k, **kw: np.nextafter(np.e ** np.asarray(a), np.inf))
    monkeypatch.setattr(np, "power", lambda a, b, *k, **kw: np.nextafter(np.asarray(a) ** b, np.inf))
    np.testing.assert_array_equal(filters.rank_gaussian_filter_reference(x), want)


def test_reference_from_hidden_matches_logits():
    from tam_widgets.core import synthetic_example

    ex = synthetic_example(grid=(6, 8), n_prompt=5, n_answer=7)
    kw = dict(
        visual_positions=ex.visual_positions,
        prompt_positions=ex.prompt_positions,
        answer_start=ex.answer_start,
        grid=ex.grid,
        compat="reference",
    )
    a = tam_from_hidden(ex.hidden.double(), ex.lm_head_weight.double(), ex.input_ids, **kw)
    b = tam_from_logits(ex.logits.double(), ex.input_ids, **kw)
    np.testing.assert_array_equal(a.class_ids, b.class_ids)
    assert np.abs(a.maps.astype(int) - b.maps.astype(int)).max() <= 1


def test_reference_rejects_ablation_switches(golden):
    with pytest.raises(ValueError, match="reference"):
        tam_from_logits(golden["logits"], golden["tokens"], compat="reference", filter="median", **golden["layout"])


def test_reference_on_all_zero_scores_gives_zero_maps():
    from tests.core.test_tam import kw, small_case

    logits, ids, vis, prompt, start = small_case(0)
    r = tam_from_logits(np.zeros_like(logits), ids, compat="reference", **kw(vis, prompt, start, (3, 4)))
    assert (r.maps == 0).all() and np.isfinite(r.text_relevance).all()
