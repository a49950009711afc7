import itertools

import numpy as np
import pytest
import torch

from tam_widgets.core.filters import (
    FILTERS,
    SORT9,
    adaptive_median_filter,
    apply_filter,
    gaussian_filter,
    median_filter,
    rank_gaussian_filter,
    rank_gaussian_filter_reference,
    sorted_windows,
    windows,
)


def _rank_gaussian_pixel(window: np.ndarray) -> float:
    v = np.sort(window.ravel())
    sigma = v.std() / v.mean()
    w = np.exp(-((np.arange(9) - 4) ** 2) / (2 * sigma**2))
    return float((v * w).sum() / w.sum())


def test_windows_reflect_like_numpy():
    x = torch.arange(12.0).reshape(3, 4)
    win = windows(x, 3)
    padded = np.pad(x.numpy(), 1, mode="reflect")
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(win[:, i, j].numpy(), padded[i : i + 3, j : j + 3].ravel())


def test_sorting_network_sorts_every_binary_input():
    # By the 0-1 principle a comparator network that sorts all 512 binary inputs sorts everything.
    bits = torch.tensor(list(itertools.product([0.0, 1.0], repeat=9))).T.reshape(9, 512, 1)
    rows = list(bits.unbind(0))
    for i, j in SORT9:
        rows[i], rows[j] = torch.minimum(rows[i], rows[j]), torch.maximum(rows[i], rows[j])
    torch.testing.assert_close(torch.stack(rows), bits.sort(dim=0).values)
    x = torch.rand(2, 6, 7)
    torch.testing.assert_close(sorted_windows(x, 3), windows(x, 3).sort(dim=0).values)


def test_rank_gaussian_hand_computed():
    x = np.array([[0.1, 0.9, 0.3], [0.4, 0.5, 0.2], [0.8, 0.6, 0.7]])
    out = rank_gaussian_filter(torch.tensor(x))
    assert out[1, 1].item() == pytest.approx(_rank_gaussian_pixel(x), rel=1e-12)
    padded = np.pad(x, 1, mode="reflect")
    for i in range(3):
        for j in range(3):
            assert out[i, j].item() == pytest.approx(_rank_gaussian_pixel(padded[i : i + 3, j : j + 3]), rel=1e-12)


def test_rank_gaussian_matches_reference_on_generic_maps():
    x = np.random.default_rng(0).random((4, 12, 16)) + 0.01
    np.testing.assert_allclose(
        rank_gaussian_filter(torch.tensor(x)).numpy(), rank_gaussian_filter_reference(x), rtol=1e-12
    )


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_constant_map_stays_constant(name):
    for value in (0.0, 0.7):
        x = torch.full((2, 5, 6), value)
        out = apply_filter(x, name)
        torch.testing.assert_close(out, x)
        assert torch.isfinite(out).all()


def test_reference_filter_turns_constant_windows_to_zero_like_the_official_code():
    assert (rank_gaussian_filter_reference(np.full((4, 4), 0.5)) == 0).all()


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_batched_equals_per_slice_and_keeps_dtype(name):
    x = torch.rand(2, 3, 7, 9)
    out = apply_filter(x, name)
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(out[1, 2], apply_filter(x[1, 2], name))
    assert (out >= 0).all() and torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_degenerate_grids(name):
    for shape in [(1, 5), (5, 1), (1, 1), (2, 2)]:
        x = torch.rand(shape)
        assert apply_filter(x, name).shape == x.shape


def test_median_and_gaussian_hand_computed():
    x = torch.zeros(5, 5)
    x[2, 2] = 9.0
    assert median_filter(x)[2, 2] == 0
    g = gaussian_filter(x)
    k = torch.exp(-torch.tensor([1.0, 0.0, 1.0]) / (2 * 0.8**2))
    k = k / k.sum()
    assert g[2, 2].item() == pytest.approx(9 * k[1].item() ** 2, rel=1e-6)
    assert g.sum().item() == pytest.approx(9.0, rel=1e-6)


def test_adaptive_median_removes_impulses_and_keeps_edges():
    x = torch.zeros(9, 9)
    x[:, 5:] = 1.0
    noisy = x.clone()
    noisy[2, 2] = 1.0
    noisy[6, 7] = 0.0
    torch.testing.assert_close(adaptive_median_filter(noisy), x)


def test_unknown_filter_name():
    with pytest.raises(ValueError, match="unknown filter"):
        apply_filter(torch.zeros(3, 3), "bilateral")
    with pytest.raises(ValueError, match=r"\[\.\.\., h, w\]"):
        windows(torch.zeros(3), 3)
    assert apply_filter(torch.ones(2, 2), None).sum() == 4
