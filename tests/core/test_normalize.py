import torch

from tam_widgets.core.normalize import minmax, multimodal_normalize


def test_minmax_and_constant_rows():
    x = torch.tensor([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]])
    torch.testing.assert_close(minmax(x), torch.tensor([[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]))


def test_multimodal_joint_scale_ignores_masked_text():
    vis = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    txt = torch.tensor([[5.0, 100.0], [0.0, 0.0]])
    mask = torch.tensor([[True, False], [True, True]])
    v, t = multimodal_normalize(vis, txt, mask)
    torch.testing.assert_close(v, torch.tensor([[0.0, 0.25], [0.0, 0.0]]))
    torch.testing.assert_close(t, torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    assert torch.isfinite(v).all() and torch.isfinite(t).all()


def test_multimodal_without_text():
    v, t = multimodal_normalize(torch.tensor([[2.0, 4.0]]), torch.zeros(1, 0), torch.zeros(1, 0, dtype=torch.bool))
    torch.testing.assert_close(v, torch.tensor([[0.0, 1.0]]))
    assert t.shape == (1, 0)
