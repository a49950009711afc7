"""IncrementalTAM: the batched default TAM one token at a time, rows the same alone or together."""

import numpy as np
import pytest
import torch

from tam_widgets.core import synthetic_example, tam_from_hidden
from tam_widgets.core.incremental import IncrementalTAM


def _run(ex, bias=None, dtype=torch.float32):
    hidden, weight = ex.hidden.to(dtype), ex.lm_head_weight.to(dtype)
    ctx = ex.prompt_positions
    inc = IncrementalTAM(hidden[ex.visual_positions], weight, ex.grid, ex.input_ids[ctx], hidden[ctx - 1], bias)
    for p in range(ex.answer_start, len(ex.input_ids)):
        inc.add(int(ex.input_ids[p]), hidden[p - 1])
    return inc


def _batch(ex, **options):
    return tam_from_hidden(
        ex.hidden,
        ex.lm_head_weight,
        ex.input_ids,
        visual_positions=ex.visual_positions,
        prompt_positions=ex.prompt_positions,
        answer_start=ex.answer_start,
        grid=ex.grid,
        **options,
    )


@pytest.mark.parametrize("grid", [(24, 32), (3, 6, 8)])
def test_rows_equal_the_batched_computation(grid):
    ex = synthetic_example(grid=grid, n_prompt=12, n_answer=40)
    rows = _run(ex).rows()
    n = len(ex.input_ids) - ex.answer_start
    assert rows.tam.shape == (n, int(np.prod(grid))) and rows.tam.dtype == np.float32
    full = _batch(ex)
    np.testing.assert_allclose(rows.tam, full.flat_maps, atol=1e-5)
    np.testing.assert_allclose(rows.unfiltered, _batch(ex, filter=None).flat_maps, atol=1e-5)
    np.testing.assert_allclose(rows.no_eci, _batch(ex, eci=None).flat_maps, atol=1e-5)
    np.testing.assert_allclose(rows.raw, full.flat_raw_maps, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rows.scales, full.scales, rtol=1e-4, atol=1e-6)
    # Relevance over the context before each token (prompt text, then the answer so far).
    assert rows.text_relevance.shape == (n, len(ex.prompt_positions) + n - 1)
    np.testing.assert_allclose(rows.text_relevance, full.text_relevance[:, : n - 1 + len(ex.prompt_positions)],
                               atol=1e-5)
    assert not full.text_relevance[:, -1].any()  # the last token is nobody's context


def test_a_row_is_the_same_alone_as_with_the_others():
    ex = synthetic_example(n_prompt=8, n_answer=24)
    inc = _run(ex)
    together = inc.rows()
    alone = [inc.rows(i, i + 1) for i in range(len(together.tam))]
    for field in ("tam", "unfiltered", "no_eci", "raw", "scales"):
        np.testing.assert_array_equal(np.concatenate([getattr(r, field) for r in alone]), getattr(together, field))
    for i, r in enumerate(alone):
        np.testing.assert_array_equal(r.text_relevance[0], together.text_relevance[i, : r.text_relevance.shape[1]])
    chunks = [inc.rows(0, 5), inc.rows(5, None)]
    np.testing.assert_array_equal(np.concatenate([c.tam for c in chunks]), together.tam)


def test_many_tokens_grow_the_context_and_float64_and_bias_work():
    ex = synthetic_example(grid=(6, 8), n_prompt=3, n_answer=150)
    inc = _run(ex)
    assert len(inc) == 3 + 150 and len(inc.rows().tam) == 150
    bias = torch.zeros(ex.lm_head_weight.shape[0], dtype=torch.float64)
    rows64 = _run(ex, bias=bias, dtype=torch.float64).rows()
    np.testing.assert_allclose(rows64.tam, inc.rows().tam, atol=1e-4)
    # No context at all: the first token's map is its normalised, filtered activation.
    empty = IncrementalTAM(ex.hidden[ex.visual_positions], ex.lm_head_weight, ex.grid, [], ex.hidden[:0])
    empty.add(int(ex.input_ids[ex.answer_start]), ex.hidden[ex.answer_start - 1])
    assert empty.rows().text_relevance.shape == (1, 0) and np.isfinite(empty.rows().tam).all()


def test_bad_input_is_refused_with_a_clear_error():
    ex = synthetic_example(grid=(6, 8), n_prompt=4, n_answer=4)
    h, w, ctx = ex.hidden, ex.lm_head_weight, ex.prompt_positions
    with pytest.raises(ValueError, match=r"n_v = 48"):
        IncrementalTAM(h[:5], w, ex.grid, ex.input_ids[ctx], h[ctx - 1])
    with pytest.raises(ValueError, match="context_hidden must be"):
        IncrementalTAM(h[ex.visual_positions], w, ex.grid, ex.input_ids[ctx], h[ctx - 1, :3])
    with pytest.raises(ValueError, match="4 context ids but 3"):
        IncrementalTAM(h[ex.visual_positions], w, ex.grid, ex.input_ids[ctx], h[ctx[:3] - 1])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        IncrementalTAM(h[ex.visual_positions], w, ex.grid, [10**6] * 4, h[ctx - 1])
    inc = IncrementalTAM(h[ex.visual_positions], w, ex.grid, ex.input_ids[ctx], h[ctx - 1])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        inc.add(-1, h[0])
    with pytest.raises(ValueError, match="hidden must be one state of width"):
        inc.add(int(ex.input_ids[ex.answer_start]), h[0, :5])
    assert len(inc) == 4  # a refused token does not join the context
    inc.add(int(ex.input_ids[ex.answer_start]), torch.full_like(h[0], float("nan")))  # a broken state ...
    with pytest.raises(ValueError, match="NaN or inf"):  # ... is refused when the next token reads it
        inc.add(int(ex.input_ids[ex.answer_start + 1]), h[ex.answer_start])


def test_extend_is_add_token_by_token():
    ex = synthetic_example(n_prompt=8, n_answer=12)
    one_by_one = _run(ex).rows()
    hidden, ctx, a = ex.hidden, ex.prompt_positions, ex.answer_start
    inc = IncrementalTAM(hidden[ex.visual_positions], ex.lm_head_weight, ex.grid, ex.input_ids[ctx], hidden[ctx - 1])
    assert inc.extend(ex.input_ids[a : a + 5], hidden[a - 1 : a + 4]) == [0, 1, 2, 3, 4]
    assert inc.extend(ex.input_ids[a + 5 :], hidden[a + 4 : a + 11]) == list(range(5, 12))
    together = inc.rows()
    for field in ("tam", "unfiltered", "no_eci", "raw", "text_relevance", "scales"):
        np.testing.assert_array_equal(getattr(together, field), getattr(one_by_one, field))
    with pytest.raises(ValueError, match=r"k = 2 \(one state per token\)"):
        inc.extend([1, 2], hidden[:3])
