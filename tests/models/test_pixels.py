"""Geometry checked against the pixels the processor really feeds the model.

A black picture with a white rectangle goes through each family's processor. From the pixel
values we read how bright each visual token's input is (using how the model consumes them: Qwen's
merger takes 4 consecutive patch rows per token; CLIP's patches are row-major over the crop;
InternVL's tiles give 4x4 tokens of 28x28 pixels each). The adapter's grid and pixel box must put
the bright tokens exactly where the rectangle is.
"""

import numpy as np
import pytest

import tam_widgets as tw
from tam_widgets.testing import tiny_model

H, W = 300, 451
RECT = (250, 60, 430, 200)  # x0, y0, x1, y1 in the original picture


def picture() -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    x0, y0, x1, y1 = RECT
    img[y0:y1, x0:x1] = 255
    return img


def token_brightness(family: str, inputs: dict, processor) -> np.ndarray:
    """Mean input value of every visual token, in the order its tokens appear in the sequence."""
    pv = inputs["pixel_values"].float()
    if family.startswith("qwen"):
        return pv.reshape(-1, 4, pv.shape[-1]).mean((1, 2)).numpy()
    if family == "llava":
        img = pv[0].mean(0)  # [84, 84]: the crop
        p = img.shape[0] // 14
        return img.reshape(p, 14, p, 14).mean((1, 3)).reshape(-1).numpy()
    tiles = pv.mean(1)  # [n_tiles, 112, 112]
    side = int(round(processor.image_seq_length**0.5))
    cell = tiles.shape[-1] // side
    return tiles.reshape(len(tiles), side, cell, side, cell).mean((2, 4)).reshape(-1).numpy()


def coverage(grid: tuple[int, int], box: np.ndarray) -> np.ndarray:
    """Share of each grid cell (laid over ``box``) covered by the rectangle."""
    h, w = grid
    bx0, by0, bx1, by1 = box
    xs = np.linspace(bx0, bx1, w + 1)
    ys = np.linspace(by0, by1, h + 1)
    x0, y0, x1, y1 = RECT
    cov_x = np.clip(np.minimum(xs[1:], x1) - np.maximum(xs[:-1], x0), 0, None) / np.diff(xs)
    cov_y = np.clip(np.minimum(ys[1:], y1) - np.maximum(ys[:-1], y0), 0, None) / np.diff(ys)
    return np.outer(cov_y, cov_x)


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "internvl"])
def test_bright_tokens_sit_where_the_rectangle_is(family):
    explainer = tw.load(tiny_model(family), max_new_tokens=1)
    adapter = explainer.adapter
    img = picture()
    messages = [{"role": "user", "content": adapter.content("Where?", 1, 0)}]
    inputs = adapter.process(adapter.render(messages), [img], [])
    ids = inputs["input_ids"][0].numpy()
    spans = adapter.visual_spans(ids, inputs, [img], [])
    bright = token_brightness(family, inputs, adapter.processor)
    all_pos = np.sort(np.concatenate([s.positions for s in spans]))
    assert len(bright) == len(all_pos)
    rank = {int(p): k for k, p in enumerate(all_pos)}
    lo, hi = bright.min(), bright.max()
    for s in spans:
        grid = s.grid[-2:]
        values = np.array([bright[rank[int(p)]] for p in s.positions]).reshape(grid)
        cov = coverage(grid, s.boxes[0])
        inside, outside = cov > 0.95, cov < 0.05
        assert outside.any(), (family, s.kind, grid)
        assert (values[inside] > lo + 0.8 * (hi - lo)).all(), (family, s.kind)
        assert (values[outside] < lo + 0.2 * (hi - lo)).all(), (family, s.kind)
        # Partly covered cells are as bright as they are covered (coarse grids, e.g. a thumbnail).
        assert np.corrcoef(values.ravel(), cov.ravel())[0, 1] > 0.9, (family, s.kind)
        if s.kind != "thumbnail":
            assert inside.any(), (family, s.kind, grid)


def test_llava_box_is_the_crop_not_the_picture():
    adapter = tw.load(tiny_model("llava"), max_new_tokens=1).adapter
    img = picture()
    inputs = adapter.process(adapter.render([{"role": "user", "content": adapter.content("x", 1, 0)}]), [img], [])
    x0, y0, x1, y1 = adapter.visual_spans(inputs["input_ids"][0].numpy(), inputs, [img], [])[0].boxes[0]
    assert (y0, y1) == pytest.approx((0, H)) and x0 > 50 and W - x1 > 50 and x1 - x0 == pytest.approx(H, abs=4)


def moving_rectangle(n_frames: int = 4) -> list[np.ndarray]:
    """Frames 2g and 2g + 1 show the rectangle at their own place: left, then right, ..."""
    frames = []
    for f in range(n_frames):
        img = np.zeros((H, W, 3), np.uint8)
        x0 = 20 if (f // 2) % 2 == 0 else 280
        img[60:200, x0 : x0 + 150] = 255
        frames.append(img)
    return frames


def frame_coverage(grid, box, frame: np.ndarray) -> np.ndarray:
    """Share of each grid cell (laid over ``box``) that is white in ``frame``."""
    h, w = grid
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    white = frame[y0:y1, x0:x1, 0] > 127
    ys = np.linspace(0, white.shape[0], h + 1).astype(int)
    xs = np.linspace(0, white.shape[1], w + 1).astype(int)
    return np.array([[white[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean() for j in range(w)] for i in range(h)])


@pytest.mark.parametrize("layout", ["current", "template start kept"])
@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def test_video_frames_land_on_their_own_frame(family, layout):
    """Each grid frame's bright tokens sit where *its* frame's rectangle is, whatever the processor's
    layout of vision start tokens and timestamps (Qwen3-VL changed it between transformers releases)."""
    explainer = tw.load(tiny_model(family), max_new_tokens=1)
    adapter = explainer.adapter
    frames = moving_rectangle()
    inputs = adapter.process(
        adapter.render([{"role": "user", "content": adapter.content("What moves?", 0, 1)}]), [], [frames]
    )
    ids = inputs["input_ids"][0].numpy()
    if layout == "template start kept":  # the other layout: one more <|vision_start|> before the video
        start = int(explainer.model.config.vision_start_token_id)
        first = int(np.flatnonzero(ids == adapter.processor.video_token_id)[0])
        cut = first - 1 if family != "qwen3_vl" else int(np.flatnonzero(ids[:first] == start)[-1])
        ids = np.concatenate([ids[:cut], [start], ids[cut:]])
    (span,) = adapter.visual_spans(ids, inputs, [], [frames])
    t, h, w = span.grid
    assert t == 2 and span.frames == [0, 2]
    assert np.array_equal(ids[span.positions], np.full(len(span.positions), adapter.processor.video_token_id))
    # Brightness of each video token from the pixels the model gets (4 patch rows per merged token).
    pv = inputs["pixel_values_videos"].float()
    bright = pv.reshape(-1, 4, pv.shape[-1]).mean((1, 2)).numpy().reshape(t, h, w)
    lo, hi = bright.min(), bright.max()
    for g in range(t):
        cov = frame_coverage((h, w), span.boxes[g], frames[span.frames[g]])
        assert (bright[g][cov > 0.95] > lo + 0.8 * (hi - lo)).all(), (family, g)
        assert (bright[g][cov < 0.05] < lo + 0.2 * (hi - lo)).all(), (family, g)
        other = frame_coverage((h, w), span.boxes[g], frames[span.frames[1 - g]])
        assert np.corrcoef(bright[g].ravel(), cov.ravel())[0, 1] > 0.9
        assert np.corrcoef(bright[g].ravel(), other.ravel())[0, 1] < 0


@pytest.mark.parametrize("family", ["qwen3_vl"])
def test_explain_video_maps_follow_the_frames(family):
    """End to end: the record's video grid shows frame 0 and frame 2 with boxes over whole frames."""
    explainer = tw.load(tiny_model(family), max_new_tokens=3)
    exp = explainer.explain(video=moving_rectangle(), prompt="What moves?")
    (grid,) = [g for g in exp.grids if g.kind == "video"]
    assert grid.grid[0] == 2 and len(grid.frames) == 2
    for g, pic in enumerate(grid.frames):
        stored = exp.images[pic]
        assert stored[..., 0].mean() > 0  # a real frame, not blank
        x0, y0, x1, y1 = grid.boxes[g]
        assert (x0, y0) == (0, 0) and (x1, y1) == (stored.shape[1], stored.shape[0])
    # frame 2's rectangle is on the right, frame 0's on the left: stored frames are the right ones
    left, right = (exp.images[grid.frames[k]] for k in (0, 1))
    half = left.shape[1] // 2
    assert left[:, :half].mean() > left[:, half:].mean() and right[:, half:].mean() > right[:, :half].mean()


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "internvl"])
@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 50, 3), (1, 40, 3), (40, 60, 3)])
def test_small_pictures_are_not_read_channels_first(family, shape):
    """Arrays go to the processor as [H, W, 3]: the same pixels as the unambiguous PIL picture."""
    from PIL import Image

    explainer = tw.load(tiny_model(family))
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    content = explainer.adapter.content("What?", 1, 0)
    text = explainer.adapter.render([{"role": "user", "content": content}])
    ours = explainer.adapter.process(text, [img], [])
    pil = explainer.processor(text=[text], images=[Image.fromarray(img)], return_tensors="pt")
    assert ours["pixel_values"].shape == pil["pixel_values"].shape
    assert (ours["pixel_values"] == pil["pixel_values"]).all()
    assert (ours["input_ids"] == pil["input_ids"]).all()


def test_tiny_video_frames_are_refused():
    explainer = tw.load(tiny_model("qwen2_vl"))
    with pytest.raises(ValueError, match="too small"):
        explainer.explain(video=[np.zeros((3, 50, 3), np.uint8)] * 2, prompt="What?")
