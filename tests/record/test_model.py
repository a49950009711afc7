"""The Explanation data model: validation, lookup and overlays."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.record import Explanation, Token

from .conftest import make_explanation


# -- lookup --------------------------------------------------------------------------------------
def test_map_shapes_and_values(ex):
    maps = ex.map(6)
    assert [m.shape for m in maps] == [(3, 4), (2, 2, 3)]
    assert all(m.dtype == np.float32 for m in maps)
    row = ex.maps["tam"][1].astype(np.float32)
    np.testing.assert_array_equal(maps[0], row[:12].reshape(3, 4))
    np.testing.assert_array_equal(maps[1], row[12:].reshape(2, 2, 3))
    cam = ex.maps["cam"][1, 12:].astype(np.float32).reshape(2, 2, 3)
    np.testing.assert_array_equal(ex.map(ex.tokens[6], "cam")[1], cam)
    np.testing.assert_array_equal(ex.map(-2)[0], ex.maps["tam"][4, :12].astype(np.float32).reshape(3, 4))
    assert ex.token_index(ex.tokens[8]) == 8 and ex.token_index(np.int64(3)) == 3


def test_lookup_errors_say_what_exists(ex):
    with pytest.raises(ValueError, match=r"not explained.*explained tokens.*5 'A'.*10 ' <script>'"):
        ex.map(9)
    with pytest.raises(ValueError, match=r"unknown method 'nope'.*\['tam', 'cam'\]"):
        ex.map(6, "nope")
    with pytest.raises(IndexError, match="out of range for 12 tokens"):
        ex.map(12)
    with pytest.raises(ValueError, match="not a token of this explanation"):
        ex.map(Token(" dog", 1, "answer", 0, 99))
    with pytest.raises(TypeError):
        ex.map("cat")
    with pytest.raises(IndexError, match="grids are"):
        ex.overlay(6, grid=2)
    with pytest.raises(IndexError, match="2 frame"):
        ex.overlay(6, grid=1, frame=2)


def test_properties_and_repr(ex):
    assert ex.methods == ["tam", "cam"]
    assert [t.text for t in ex.explained_tokens] == ["A", " cat", " costs", " $", " <script>"]
    assert ex.answer == "A cat costs $5 <script>"
    r = repr(ex)
    assert "test/tiny-vlm" in r and "tokens=12" in r and "explained=5" in r
    assert "'image 1' image 3x4" in r and "'video 1' video 2x2x3" in r


# -- overlays ------------------------------------------------------------------------------------
def _one_hot(ex: Explanation, row: int, visual: int, value: float = 1.0) -> Explanation:
    maps = np.zeros_like(ex.maps["tam"])
    maps[row, visual] = value
    return make_explanation(maps={"tam": maps})


def _assert_hot_box(out: np.ndarray, grid_box: tuple, cell: tuple) -> None:
    """With a grey colormap at alpha 1, a one-hot map is bright (> 0.5) exactly over its cell: the
    bright pixels span the cell, fill its middle row and column, and the corners of the cell are
    the only dimmer ones (bilinear weights multiply)."""
    gx0, gy0, gx1, gy1 = grid_box
    x0, y0, x1, y1 = cell
    hot = out[gy0:gy1, gx0:gx1, 0] > 127
    ys, xs = np.nonzero(hot)
    assert (xs.min() + gx0, ys.min() + gy0, xs.max() + gx0 + 1, ys.max() + gy0 + 1) == cell
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    row, col = out[cy, gx0:gx1, 0] > 127, out[gy0:gy1, cx, 0] > 127
    np.testing.assert_array_equal(np.flatnonzero(row) + gx0, np.arange(x0, x1))
    np.testing.assert_array_equal(np.flatnonzero(col) + gy0, np.arange(y0, y1))
    assert out[cy, cx, 0] >= 200


def test_overlay_puts_a_single_token_on_its_pixel_box(ex):
    # Image grid (3, 4) in box (10, 21)-(70, 51): token (1, 2) covers x 40..55, y 31..41.
    one = _one_hot(ex, row=1, visual=1 * 4 + 2)
    out = one.overlay(6, cmap="gray", alpha=1.0)
    image = one.images[0]
    assert out.shape == image.shape and out.dtype == np.uint8
    _assert_hot_box(out, grid_box=(10, 21, 70, 51), cell=(40, 31, 55, 41))
    outside = np.ones(image.shape[:2], bool)
    outside[21:51, 10:70] = False
    np.testing.assert_array_equal(out[outside], image[outside])
    # Default look: blended with jet, still only inside the grid's box.
    soft = one.overlay(one.tokens[6])
    np.testing.assert_array_equal(soft[outside], image[outside])
    assert not np.array_equal(soft[31:41, 40:55], image[31:41, 40:55])


def test_overlay_video_frame(ex):
    # Video grid (2, 2, 3) over 96x64 pictures: frame 1, token (0, 2) covers x 64..96, y 0..32 of picture 2.
    one = _one_hot(ex, row=0, visual=12 + 6 + 0 * 3 + 2)
    out = one.overlay(5, grid=1, frame=1, cmap="gray", alpha=1.0)
    _assert_hot_box(out, grid_box=(0, 0, 96, 64), cell=(64, 0, 96, 32))
    assert (one.overlay(5, grid=1, frame=0, cmap="gray", alpha=1.0) == 0).all()  # frame 0 is cold


def test_overlay_scales_maps_outside_unit_range(ex):
    stored = make_explanation(maps={"tam": (ex.maps["tam"].astype(np.float32) * 4 - 1).astype(np.float16)})
    row = stored.maps["tam"][1].astype(np.float32)
    scaled = (row - row.min()) / (row.max() - row.min())
    from tam_widgets.render import overlay

    expected = overlay(stored.images[0], scaled[:12].reshape(3, 4), box=(10, 21, 70, 51))
    np.testing.assert_array_equal(stored.overlay(6), expected)
    unit = ex.maps["tam"][1].astype(np.float32)  # already in [0, 1]: shown as stored
    np.testing.assert_array_equal(ex.overlay(6), overlay(ex.images[0], unit[:12].reshape(3, 4), box=(10, 21, 70, 51)))


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(maps={"tam": np.zeros((5, 20), np.float16)}), r"\[5, 24\].*\(5, 20\)"),
        (dict(text_relevance=np.zeros((5, 11), np.float16)), r"\[5, 12\].*\(5, 11\)"),
        (dict(candidate_probs=np.zeros((5, 2), np.float32)), r"\(5, 3\).*\(5, 2\)"),
        (dict(candidate_ids=np.zeros((4, 3), np.int64)), r"n_explained = 5.*\(4, 3\)"),
        (dict(candidate_texts=[["a"]] * 5), "5 lists of 3 strings"),
        (dict(explained=np.array([5, 6, 7, 8, 12])), r"\[12\] are out of range for 12 tokens"),
        (dict(explained=np.array([5, 6, 7, 8, 8])), "unique"),
        (dict(words=np.array([[0, 3], [2, 12]])), "non-overlapping"),
        (dict(images=[np.zeros((64, 96), np.uint8)] * 3), r"RGB uint8 \[H, W, 3\].*\(64, 96\)"),
    ],
)
def test_validation_names_the_shapes(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_explanation(**overrides)


def test_validation_of_grids_and_roles():
    grids = make_explanation().grids
    grids[1].boxes = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[2, 4\].*\(3, 4\)"):
        make_explanation(grids=grids)
    grids = make_explanation().grids
    grids[0].boxes = np.array([[0, 0, 200, 50]], np.float32)
    with pytest.raises(ValueError, match="does not fit image 0"):
        make_explanation(grids=grids)
    grids = make_explanation().grids
    grids[1].frames = [1, 7]
    with pytest.raises(ValueError, match="points to image 7"):
        make_explanation(grids=grids)
    tokens = make_explanation().tokens
    tokens[3] = Token(" scene", 3, "user", 0, 6)
    with pytest.raises(ValueError, match="role 'user'"):
        make_explanation(tokens=tokens)


# -- hostile files: every corrupt input is one RecordError naming the file ----------------------


def test_overlay_refuses_bad_alpha_frame_and_grid(ex):
    for alpha in (float("nan"), 1.01, -1):
        with pytest.raises(ValueError, match="alpha"):
            ex.overlay(6, alpha=alpha)
    with pytest.raises(TypeError, match="frame must be an int"):
        ex.overlay(6, grid=1, frame=0.5)
    with pytest.raises(TypeError, match="grid must be an int index or a label"):
        ex.overlay(6, grid=1.0)
    np.testing.assert_array_equal(ex.overlay(6, grid="video 1", frame=-1), ex.overlay(6, grid=1, frame=1))
