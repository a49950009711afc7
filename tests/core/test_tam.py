"""The default pipeline against a plain per-token implementation of the equations, and its properties."""

import numpy as np
import pytest
import torch

from tam_widgets.core import apply_filter, synthetic_example, tam_from_hidden, tam_from_logits
from tam_widgets.demo import object_focus


def naive_tam(logits, ids, vis, prompt, answer_start):
    """Per token, in float64: CAM, ECI over the earlier text, joint min-max (no filter)."""
    logits = np.asarray(logits, np.float64)
    context = list(prompt) + list(range(answer_start, len(ids)))
    maps, texts = [], []
    for p in range(answer_start, len(ids)):
        c = ids[p]
        a = np.maximum(logits[vis, c], 0)
        before = [q for q in context if q < p]
        rel = np.array([max(logits[q - 1, c], 0) for q in before])
        w = np.array([r if ids[q] != c else 0.0 for q, r in zip(before, rel)])
        w = w / (w.sum() + 1e-8) if len(w) else w
        interference = sum((wi * np.maximum(logits[vis, ids[q]], 0) for wi, q in zip(w, before)), np.zeros(len(vis)))
        den = interference @ interference
        s = (a @ interference) / den if den > 0 else 0.0
        m = np.maximum(a - s * interference, 0)
        joint = np.concatenate([m, rel])
        lo, hi = joint.min(), joint.max()
        maps.append((m - lo) / (hi - lo))
        t = np.zeros(len(context))
        t[: len(before)] = (rel - lo) / (hi - lo)
        texts.append(t)
    return np.array(maps), np.array(texts)


def small_case(seed=0, n_vis=12, vocab=15):
    rng = np.random.default_rng(seed)
    ids = np.array([1, 2] + [3] * n_vis + [4, 7, 8, 9, 5, 10, 11, 7, 12, 10], np.int64)
    vis = np.arange(2, 2 + n_vis)
    prompt = np.array([2 + n_vis + 1, 2 + n_vis + 2, 2 + n_vis + 3])
    answer_start = 2 + n_vis + 5
    logits = rng.normal(size=(len(ids) - 1, vocab)).astype(np.float32)
    return logits, ids, vis, prompt, answer_start


def kw(vis, prompt, answer_start, grid, **extra):
    return dict(visual_positions=vis, prompt_positions=prompt, answer_start=answer_start, grid=grid, **extra)


def test_default_equals_the_equations():
    logits, ids, vis, prompt, start = small_case()
    r = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), filter=None))
    maps, texts = naive_tam(logits, ids, vis, prompt, start)
    np.testing.assert_allclose(r.flat_maps, maps, atol=2e-6)
    np.testing.assert_allclose(r.text_relevance, texts, atol=2e-6)
    assert r.maps.shape == (len(ids) - start, 3, 4)
    # Every answer token is explained with its own class (the repeated token 7 and 10 included).
    np.testing.assert_array_equal(r.class_ids, ids[start:])
    np.testing.assert_array_equal(r.token_positions, np.arange(start, len(ids)))
    np.testing.assert_array_equal(r.context_positions, np.concatenate([prompt, np.arange(start, len(ids))]))


def test_filter_is_applied_after_normalisation():
    logits, ids, vis, prompt, start = small_case(1)
    plain = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), filter=None))
    for name in ("rank_gaussian", "median"):
        r = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), filter=name))
        expected = apply_filter(torch.tensor(plain.maps), name).numpy()
        np.testing.assert_allclose(r.maps, expected, atol=1e-6)


def test_hidden_numpy_torch_and_logits_agree():
    ex = synthetic_example(grid=(6, 8), n_prompt=6, n_answer=10)
    a = ex.tam()
    b = tam_from_logits(ex.logits, torch.tensor(ex.input_ids), **ex.layout)
    c = tam_from_logits(ex.logits.numpy(), list(ex.input_ids), **ex.layout)
    np.testing.assert_allclose(a.flat_maps, b.flat_maps, atol=1e-5)
    np.testing.assert_array_equal(b.flat_maps, c.flat_maps)
    np.testing.assert_allclose(a.scales, b.scales, rtol=1e-4)


def test_outputs_finite_non_negative_and_joint_scale():
    logits, ids, vis, prompt, start = small_case(2)
    r = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), filter=None))
    both = np.concatenate([r.flat_maps, r.text_relevance], 1)
    assert np.isfinite(both).all() and (both >= 0).all()
    np.testing.assert_allclose(both.max(1), 1.0, atol=1e-6)
    assert r.flat_maps.dtype == np.float32 and r.raw_maps.dtype == np.float32
    rg = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4)))
    assert np.isfinite(rg.flat_maps).all() and (rg.flat_maps >= 0).all() and rg.flat_maps.max() <= 1 + 1e-6


def test_permuting_context_leaves_result_unchanged():
    logits, ids, vis, prompt, start = small_case(3)
    base = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4)))
    # Swap the first and last prompt tokens: their ids and the score rows their relevance is read at.
    p, q = prompt[0], prompt[2]
    ids2, logits2 = ids.copy(), logits.copy()
    ids2[[p, q]] = ids2[[q, p]]
    logits2[[p - 1, q - 1]] = logits2[[q - 1, p - 1]]
    swapped = tam_from_logits(logits2, ids2, **kw(vis, prompt, start, (3, 4)))
    np.testing.assert_allclose(swapped.flat_maps, base.flat_maps, atol=1e-6)
    np.testing.assert_allclose(swapped.scales, base.scales, rtol=1e-5)


def test_token_without_usable_context():
    logits, ids, vis, prompt, start = small_case(4)
    ids = ids.copy()
    ids[prompt] = ids[start]  # every prompt token equals the first answer token
    r = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), filter=None))
    assert r.scales[0] == 0
    raw = np.maximum(logits[vis, ids[start]], 0)
    rel = np.maximum(logits[prompt - 1, ids[start]], 0)
    lo, hi = min(raw.min(), rel.min()), max(raw.max(), rel.max())
    np.testing.assert_allclose(r.flat_maps[0], (raw - lo) / (hi - lo), atol=1e-6)
    # No prompt at all: the first answer token has no context.
    r = tam_from_logits(logits, ids, **kw(vis, [], start, (3, 4)))
    assert r.scales[0] == 0 and np.isfinite(r.flat_maps).all()


def test_all_zero_scores_give_zero_maps_not_nan():
    logits, ids, vis, prompt, start = small_case(5)
    r = tam_from_logits(np.zeros_like(logits), ids, **kw(vis, prompt, start, (3, 4)))
    assert (r.flat_maps == 0).all() and (r.text_relevance == 0).all()


@pytest.mark.parametrize("eci", [None, False, "mean", True])
def test_ablation_switches(eci):
    logits, ids, vis, prompt, start = small_case(6)
    r = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), eci=eci, filter=None))
    assert r.settings["eci"] == {None: None, False: None, True: "ls"}.get(eci, eci)
    if eci in (None, False):
        assert (r.scales == 0).all()
        # Without ECI the map is the CAM on the joint scale: an affine image of the raw map.
        for m, a in zip(r.flat_maps, r.flat_raw_maps):
            slope = (m.max() - m.min()) / (a.max() - a.min())
            np.testing.assert_allclose(m, m.min() + slope * (a - a.min()), atol=1e-6)
    else:
        assert (r.scales > 0).any()


def test_several_images_each_with_its_own_grid():
    ex = synthetic_example(grid=(6, 8), n_prompt=4, n_answer=6)
    grids = [(4, 6), (3, 8)]
    args = kw(ex.visual_positions, ex.prompt_positions, ex.answer_start, grids)
    r = tam_from_hidden(ex.hidden, ex.lm_head_weight, ex.input_ids, **args)
    assert isinstance(r.maps, list) and [m.shape for m in r.maps] == [(6, 4, 6), (6, 3, 8)]
    plain = tam_from_hidden(ex.hidden, ex.lm_head_weight, ex.input_ids, **{**args, "filter": None})
    np.testing.assert_allclose(r.maps[1], apply_filter(torch.tensor(plain.maps[1]), "rank_gaussian").numpy(), atol=1e-6)


def test_video_is_filtered_frame_by_frame():
    ex = synthetic_example(grid=(3, 6, 8), n_prompt=4, n_answer=6)
    r, plain = ex.tam(), ex.tam(filter=None)
    assert r.maps.shape == (6, 3, 6, 8)
    for f in range(3):
        np.testing.assert_allclose(
            r.maps[:, f], apply_filter(torch.tensor(plain.maps[:, f]), "rank_gaussian").numpy(), atol=1e-6
        )


def test_include_prompt_explains_prompt_then_answer():
    logits, ids, vis, prompt, start = small_case(7)
    r = tam_from_logits(logits, ids, **kw(vis, prompt, start, (3, 4), include_prompt=True))
    assert len(r) == len(prompt) + len(ids) - start
    np.testing.assert_array_equal(r.token_positions[: len(prompt)], prompt)
    first = r.text_relevance[0]
    assert (first == 0).all()  # the first prompt token has no earlier context


def test_tam_focuses_on_the_named_object_where_cam_leaks():
    ex = synthetic_example()
    r = ex.tam()
    for word in ("circle", "square", "triangle"):
        tam, cam = object_focus(r, ex, word)
        assert tam > 0.35 and tam > 2.5 * cam, (word, tam, cam)
