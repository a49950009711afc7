import numpy as np
import pytest
import torch

from tam_widgets.core import class_scores, synthetic_example
from tam_widgets.core.scores import HiddenScores, LogitScores
from tam_widgets.testing import ShapeRecorder


def test_class_scores_gather_rows_of_the_lm_head():
    g = torch.Generator().manual_seed(0)
    hidden, weight, bias = torch.randn(7, 5, generator=g), torch.randn(50, 5, generator=g), torch.randn(50, generator=g)
    ids = torch.tensor([3, 41, 3])
    full = hidden @ weight.T + bias
    torch.testing.assert_close(class_scores(hidden, weight, ids, bias), full[:, ids])
    torch.testing.assert_close(class_scores(hidden, weight, ids), (hidden @ weight.T)[:, ids])
    torch.testing.assert_close(class_scores(hidden, weight, ids, bias, by_class=True), full[:, ids].T)


def test_class_scores_are_float32_for_half_models():
    hidden, weight = torch.randn(4, 8).bfloat16(), torch.randn(20, 8).bfloat16()
    out = class_scores(hidden, weight, torch.tensor([1, 2]))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, (hidden.float() @ weight.float().T)[:, [1, 2]])


def test_logit_and_hidden_sources_agree():
    hidden, weight = torch.randn(6, 4), torch.randn(30, 4)
    ids = torch.tensor([0, 29])
    torch.testing.assert_close(HiddenScores(hidden, weight).columns(ids), LogitScores(hidden @ weight.T).columns(ids))
    torch.testing.assert_close(HiddenScores(hidden, weight).row(2), (hidden @ weight.T)[2])
    np_src = LogitScores((hidden @ weight.T).numpy())
    torch.testing.assert_close(np_src.columns(ids), (hidden @ weight.T)[:, ids])


@pytest.mark.parametrize("compat", ["default", "reference"])
def test_no_tensor_with_a_vocabulary_dimension_per_position(compat):
    ex = synthetic_example(grid=(6, 8), n_prompt=5, n_answer=9, vocab_size=5000)
    rows, vocab = ex.hidden.shape[0], ex.lm_head_weight.shape[0]
    with ShapeRecorder() as rec:
        ex.tam(compat=compat)
    assert rec.shapes, "the dispatch recorder saw no operation"
    big = [s for s in rec.shapes if vocab in s and any(d >= rows for d in s if d != vocab)]
    assert big == [], f"tensors with a vocabulary dimension: {big}"
    assert max(int(np.prod(s)) for s in rec.shapes) < rows * vocab / 10
