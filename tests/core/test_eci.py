import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from tam_widgets.core.eci import eci, interference_weights, least_squares_scale


def test_weights_hand_computed():
    rel = torch.tensor([[1.0, 3.0, 2.0, -5.0]])
    usable = torch.tensor([[True, True, False, True]])
    w = interference_weights(rel, usable)
    torch.testing.assert_close(w, torch.tensor([[0.25, 0.75, 0.0, 0.0]]), atol=1e-7, rtol=0)
    w = interference_weights(rel, usable, "mean")
    torch.testing.assert_close(w, torch.tensor([[1 / 3, 1 / 3, 0.0, 1 / 3]]), atol=1e-7, rtol=0)


def test_eci_hand_computed():
    a = torch.tensor([[4.0, 1.0, 0.0]])
    ctx = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    maps, s = eci(a, ctx, torch.tensor([[1.0, 1.0]]), torch.ones(1, 2, dtype=torch.bool))
    # I = [1, 0, 1]; s = <a, I>/<I, I> = 4/2 = 2; a - 2I = [2, 1, -2] -> ReLU.
    torch.testing.assert_close(s, torch.tensor([2.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(maps, torch.tensor([[2.0, 1.0, 0.0]]), atol=1e-6, rtol=0)


def test_scale_is_the_least_squares_minimiser():
    g = torch.Generator().manual_seed(1)
    a, interference = (
        torch.rand(5, 40, generator=g, dtype=torch.float64),
        torch.rand(5, 40, generator=g, dtype=torch.float64),
    )
    s = least_squares_scale(a, interference)
    for i in range(5):
        ai, ii = a[i].numpy(), interference[i].numpy()
        best = minimize_scalar(lambda x, ai=ai, ii=ii: np.sum((ai - x * ii) ** 2)).x
        assert s[i].item() == pytest.approx(best, rel=1e-7)


def test_no_usable_context_leaves_the_map_unchanged():
    a = torch.rand(3, 10)
    maps, s = eci(a, torch.rand(4, 10), torch.rand(3, 4), torch.zeros(3, 4, dtype=torch.bool))
    torch.testing.assert_close(maps, a)
    assert (s == 0).all()


def test_zero_relevance_context_is_no_interference():
    a = torch.rand(2, 10)
    maps, s = eci(a, torch.rand(4, 10), torch.zeros(2, 4), torch.ones(2, 4, dtype=torch.bool))
    torch.testing.assert_close(maps, a)
    assert torch.isfinite(s).all()


def test_batched_rows_equal_one_at_a_time():
    g = torch.Generator().manual_seed(2)
    a, ctx, rel = torch.rand(6, 30, generator=g), torch.rand(9, 30, generator=g), torch.rand(6, 9, generator=g)
    usable = torch.rand(6, 9, generator=g) > 0.3
    maps, s = eci(a, ctx, rel, usable)
    for i in range(6):
        m1, s1 = eci(a[i : i + 1], ctx, rel[i : i + 1], usable[i : i + 1])
        torch.testing.assert_close(maps[i : i + 1], m1)
        torch.testing.assert_close(s[i : i + 1], s1)


def test_unknown_variant():
    with pytest.raises(ValueError, match="ECI variant"):
        interference_weights(torch.ones(1, 1), torch.ones(1, 1, dtype=torch.bool), "median")
