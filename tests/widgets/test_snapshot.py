"""The static picture and text summary in every view's display output (tam_widgets.widgets.snapshot)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import tam_widgets as tw
from tam_widgets.record import Explanation
from tam_widgets.testing.records import small_record, synthetic_record
from tam_widgets.widgets import snapshot as snapshot_module

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def quadrant_record(size: int = 448, frames: int = 0, **metadata) -> Explanation:
    """A grey picture (or video) and two answer tokens: token A hot in the top-left quarter, B bottom-right.

    With ``frames``, token A's map is hot top-left on frame 0 and bottom-right on every other frame.
    No text relevance, so only the maps put heat colours into the picture.
    """
    exp = synthetic_record(answer=[" A", " B"], grid=(4, 4), image_size=(size, size), frames=frames,
                           methods=("tam",))
    for img in exp.images:
        img[:] = 128
    n_frames = max(frames, 1)
    maps = np.zeros((2, 16 * n_frames), np.float16)
    top_left = np.zeros((4, 4), np.float16)
    top_left[:2, :2] = 1
    bottom_right = top_left[::-1, ::-1]
    for f in range(n_frames):
        maps[0, f * 16 : (f + 1) * 16] = (top_left if f == 0 else bottom_right).reshape(-1)
        maps[1, f * 16 : (f + 1) * 16] = (bottom_right if f == 0 else top_left).reshape(-1)
    exp.maps["tam"] = maps
    exp.text_relevance[:] = 0
    exp.metadata.update(metadata)
    return exp


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def hot(rgb: np.ndarray) -> np.ndarray:
    """Where jet's hot end blended over grey shows: red well above blue and green."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > b + 40) & (r > g + 40)


def own_heat(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Centre ``(x, y)`` of the pixels hot in ``a`` and not in ``b``, as fractions of the width and height."""
    assert a.shape == b.shape
    ys, xs = np.nonzero(hot(a) & ~hot(b))
    assert xs.size > 1000, "no heat of its own in the picture"
    return xs.mean() / a.shape[1], ys.mean() / a.shape[0]


def bundle_png(view) -> bytes:
    data, _ = view._repr_mimebundle_()
    return base64.b64decode(data["image/png"])


def test_the_picture_follows_the_selected_tokens_map():
    exp = quadrant_record()
    a_tok, b_tok = (int(i) for i in exp.explained)
    view = tw.TokenMapView(exp, selected=a_tok)
    a = pixels(bundle_png(view))
    view.selected = b_tok  # the output follows the view's state when it is displayed
    b = pixels(bundle_png(view))
    ax, ay = own_heat(a, b)
    bx, by = own_heat(b, a)
    assert ax < 0.5 < bx, (ax, bx)  # A's heat on the left, B's on the right
    assert ay < by, (ay, by)  # and A's above B's


def test_the_picture_follows_the_frame_and_the_colormap():
    exp = quadrant_record(size=160, frames=3)
    token = int(exp.explained[0])
    first = pixels(snapshot_module.snapshot_png(exp, token, "tam", "jet", frame=0))
    later = pixels(snapshot_module.snapshot_png(exp, token, "tam", "jet", frame=2))
    ax, _ = own_heat(first, later)
    bx, _ = own_heat(later, first)
    assert ax < 0.5 < bx, (ax, bx)
    viridis = pixels(snapshot_module.snapshot_png(exp, token, "tam", "viridis", frame=0))
    assert hot(viridis).sum() < hot(first).sum() / 10  # viridis has no red end


def test_the_picture_is_not_blank_and_small():
    from skimage import data as skimage_data

    exp = quadrant_record()
    exp.images[0][:] = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((448, 448)))
    png = bundle_png(tw.TokenMapView(exp))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) <= 200_000, len(png)
    rgb = pixels(png)
    assert rgb.shape[0] > 400 and rgb.shape[1] > 300
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 100 and rgb.std() > 30


def test_the_picture_shows_the_provenance_warning():
    def warning_red(exp: Explanation) -> int:
        rgb = pixels(snapshot_module.snapshot_png(exp, int(exp.explained[0]), "tam"))
        rgb = rgb[: rgb.shape[0] // 5]  # the header (the colour bar at the foot has reds too)
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # #b00020, not a blend of heat over grey
        return int(((r > 140) & (g < 40) & (b < 70)).sum())

    assert warning_red(quadrant_record(untrained=True)) > 200
    assert warning_red(quadrant_record()) == 0


def test_the_text_summary_names_model_prompt_answer_and_token():
    exp = small_record()
    view = tw.TokenMapView(exp, selected=13, method="cam")
    data, _ = view._repr_mimebundle_()
    text = data["text/plain"]
    assert "synthetic/record" in text and "prompt: Describe the image." in text
    assert "answer: A cat <script>alert(1)</script> here" in text
    assert "selected: token 13 ' cat'" in text and "CAM" in text
    view.selected = -1
    assert "selected: none (the picture shows token 12 ' A'" in view._repr_mimebundle_()[0]["text/plain"]
    assert data[WIDGET_MIME]["model_id"] == view.model_id  # the live view is still there


def test_display_of_a_record_carries_the_picture():
    data, _ = small_record()._repr_mimebundle_()
    assert WIDGET_MIME in data and base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert data["text/plain"].startswith("TokenMapView of synthetic/record")


def test_the_picture_can_be_turned_off(monkeypatch):
    exp = small_record()
    data, _ = tw.TokenMapView(exp, snapshot=False)._repr_mimebundle_()
    assert WIDGET_MIME in data and "image/png" not in data
    monkeypatch.setattr(snapshot_module, "ENABLED", False)
    off = tw.TokenMapView(exp)
    assert off.snapshot is False and "image/png" not in off._repr_mimebundle_()[0]
    assert "image/png" not in exp._repr_mimebundle_()[0]
    on = tw.TokenMapView(exp, snapshot=True)  # the argument overrides the module default
    assert "image/png" in on._repr_mimebundle_()[0]
    on.snapshot = False  # and the attribute can be flipped later
    assert "image/png" not in on._repr_mimebundle_()[0]


def test_a_picture_that_fails_leaves_the_widget_with_a_warning(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(tw.widgets.view, "snapshot_png", broken)
    view = tw.TokenMapView(small_record())
    with pytest.warns(UserWarning, match="no static picture in the output.*no fonts"):
        data, _ = view._repr_mimebundle_()
    assert WIDGET_MIME in data and "image/png" not in data


def test_a_long_text_shows_only_the_context_around_the_token():
    exp = synthetic_record(answer=400, image_size=(224, 224))
    token = int(exp.explained[200])
    png = snapshot_module.snapshot_png(exp, token, "tam")
    whole = io.BytesIO()
    exp.figure(tokens=[token], ncols=1).savefig(whole, format="png", dpi=snapshot_module.DPI)
    height = pixels(png).shape[0]
    assert height < 0.6 * pixels(whole.getvalue()).shape[0] and len(png) < 100_000, (height, len(png))


def test_a_front_end_that_wants_text_alone_gets_no_picture(monkeypatch):
    drawn = []
    monkeypatch.setattr(tw.widgets.view, "snapshot_png", lambda *a, **k: drawn.append(a) or b"\x89PNG")
    view = tw.TokenMapView(small_record())
    for kwargs in ({"include": {"text/plain"}}, {"exclude": {"image/png"}}):
        data, _ = view._repr_mimebundle_(**kwargs)
        assert "image/png" not in data and data["text/plain"].startswith("TokenMapView of ")
    assert not drawn  # not even drawn
    assert "image/png" in view._repr_mimebundle_(include={"image/png", "text/plain"})[0] and len(drawn) == 1
