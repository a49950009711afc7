import numpy as np
import pytest

from tam_widgets.render import colorize, overlay


def test_map_lands_on_its_token_box():
    image = np.full((60, 90, 3), 128, np.uint8)
    m = np.zeros((2, 3), np.float32)
    m[1, 2] = 1.0  # bottom-right token: pixels y 30..60, x 60..90
    out = overlay(image, m, cmap="gray", alpha=1.0)
    assert out[45, 75].mean() > 200  # centre of the hot token's box
    assert out[15, 15].mean() < 10  # far from it
    assert out.shape == image.shape and out.dtype == np.uint8


def test_box_limits_the_overlay_to_a_region():
    image = np.zeros((40, 40, 3), np.uint8)
    out = overlay(image, np.ones((2, 2)), cmap="gray", alpha=1.0, box=(10, 5, 30, 25))
    assert (out[5:25, 10:30] == 255).all()
    assert (out[:5] == 0).all() and (out[:, :10] == 0).all() and (out[25:] == 0).all()


def test_colorize_uint8_and_float_agree():
    m = np.array([[0, 255]], np.uint8)
    np.testing.assert_array_equal(colorize(m), colorize(m / 255.0))


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"RGB \[H, W, 3\]"):
        overlay(np.zeros((4, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"map must be \[h, w\]"):
        overlay(np.zeros((4, 4, 3)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        overlay(np.zeros((4, 4, 3)), np.zeros((2, 2)), box=(0, 0, 5, 4))


@pytest.mark.parametrize("alpha", [float("nan"), 1.5, -0.1, float("inf")])
def test_alpha_outside_0_1_or_nan_is_refused(alpha):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        overlay(np.zeros((4, 4, 3), np.uint8), np.ones((2, 2)), alpha=alpha)
    with pytest.raises(TypeError, match="alpha"):
        overlay(np.zeros((4, 4, 3), np.uint8), np.ones((2, 2)), alpha=True)


def test_alpha_bounds_are_exact():
    image = np.full((4, 4, 3), 100, np.uint8)
    np.testing.assert_array_equal(overlay(image, np.ones((2, 2)), cmap="gray", alpha=0), image)
    assert (overlay(image, np.ones((2, 2)), cmap="gray", alpha=1) == 255).all()


def test_fractional_box_and_unknown_colormap_are_refused():
    with pytest.raises(TypeError, match="whole pixel"):
        overlay(np.zeros((4, 4, 3), np.uint8), np.ones((2, 2)), box=(0.5, 0, 3.5, 4))
    with pytest.raises(TypeError, match="whole pixel"):
        overlay(np.zeros((4, 4, 3), np.uint8), np.ones((2, 2)), box=(0, 0, 4))
    with pytest.raises(ValueError, match="unknown colormap 'nope'"):
        colorize(np.zeros((2, 2)), "nope")


def test_nan_in_the_map_shows_as_zero():
    image = np.zeros((4, 4, 3), np.uint8)
    m = np.array([[np.nan, np.nan], [np.nan, np.nan]], np.float32)
    np.testing.assert_array_equal(overlay(image, m, cmap="gray", alpha=1.0), image)


def test_with_legend_keeps_the_picture_and_adds_a_colour_bar():
    from tam_widgets.render import with_legend

    picture = np.random.default_rng(0).integers(0, 256, (50, 600, 3), dtype=np.uint8)
    out = with_legend(picture, "viridis", "cat (token 6): TAM on image 1", "activation (0-1)")
    assert out.shape[1] == 600 and out.shape[0] > 100
    np.testing.assert_array_equal(out[:50], picture)
    foot = out[50:].reshape(-1, 3).astype(int)
    for colour in colorize(np.array([[0.0, 0.5, 1.0]]), "viridis")[0].astype(int):
        assert (np.abs(foot - colour).sum(1) < 20).any()
    with pytest.raises(ValueError, match="RGB uint8"):
        with_legend(np.zeros((4, 4)), "jet", "t", "u")
