"""TokenMapView on the Python side: traits, validation, on-demand rows, region shares, display."""

from __future__ import annotations

import json

import numpy as np
import pytest
import traitlets

import tam_widgets as tw
from tam_widgets.testing.records import small_record, synthetic_record
from tam_widgets.widgets import base as base_module
from tam_widgets.widgets.payload import quantize

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def exp():
    return small_record()


def test_view_starts_on_the_first_answer_token(exp):
    v = tw.TokenMapView(exp)
    assert v.selected == 12 and v.token.text == " A" and v.method == "tam" and v.colormap == "jet"
    assert isinstance(v._records[0]["maps"]["tam"], memoryview)
    assert v._esm and v._css  # the bundle travels with the model


def test_selected_is_validated_and_wraps(exp):
    v = tw.TokenMapView(exp, selected=exp.tokens[13])
    assert v.selected == 13
    v.select(-3)  # select() counts from the end like the record; the trait itself takes 0..n-1 or -1
    assert v.selected == len(exp.tokens) - 3 == 14
    with pytest.raises(traitlets.TraitError, match="out of range for 17 tokens"):
        v.selected = -3
    v.select(15)
    assert v.token.text == " here"
    with pytest.raises(traitlets.TraitError, match=r"token 3 \('Describe'\) has no map; explained tokens are \[12"):
        v.selected = 3
    with pytest.raises(traitlets.TraitError, match="out of range for 17 tokens"):
        v.selected = 99
    v.selected = -1  # none
    assert v.selected == -1 and v.token is None


def test_observe_sees_changes(exp):
    v = tw.TokenMapView(exp)
    seen = []
    v.observe(lambda ch: seen.append(ch["new"]), "selected")
    v.selected = 14
    assert seen == [14]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("method", "gradcam", r"method 'gradcam' is not in this explanation: \['tam', 'cam'"),
        ("colormap", "rainbow", "colormap must be one of"),
        ("opacity", 1.5, r"opacity must be in \[0, 1\]"),
        ("frame", 1, r"frame must be in 0\.\.0"),
        ("frame", -1, "frame must be in"),
        ("region", [0, 0, 1], r"region is \[\] or \[grid, frame"),
        ("region", [3, 0, 0, 0, 1, 1], "names a grid/frame"),
        ("region", [0, 0, float("nan"), 0, 10, 10], r"\[grid, frame, x0, y0, x1, y1\].*NaN and infinities"),
        ("region", [0, 0, 0, 0, float("inf"), 10], "NaN and infinities"),
        ("region", [0.5, 0, 0, 0, 10, 10], r"grid and frame are indices, not fractions"),
        ("region", [0, 0.25, 0, 0, 10, 10], r"not fractions"),
        ("region", [0, 0, "1", 0, 10, 10], r"\[grid, frame, x0.*str is not a number"),
        ("region", [True, 0, 0, 0, 10, 10], r"bool is not a number"),
        ("region", [0, 0, 0, 0, 10, 10, 3], r"region is \[\] or \[grid, frame"),
        ("region", [0, 0, 5, 5, 5, 20], "empty box"),
        ("region", [0, 0, 200, 0, 300, 10], r"outside its picture of 128x96 pixels"),
        ("region", [0, -1, 0, 0, 10, 10], "names a grid/frame"),
    ],
)
def test_bad_settings_are_refused(exp, name, value, message):
    v = tw.TokenMapView(exp)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(v, name, value)


def test_constructor_errors(exp):
    with pytest.raises(TypeError, match="shows an Explanation"):
        tw.TokenMapView("cat.tam")
    with pytest.raises(ValueError, match="not explained"):
        tw.TokenMapView(exp, selected=0)
    with pytest.raises(traitlets.TraitError, match="colormap"):
        tw.TokenMapView(exp, colormap="hot")


def test_on_demand_rows_answer_the_page(exp, monkeypatch):
    v = tw.TokenMapView(exp, max_inline_bytes=10)
    assert v._records[0]["maps"] == {k: None for k in exp.methods}
    sent = []
    monkeypatch.setattr(v, "send", lambda content, buffers=None: sent.append((content, buffers)))
    v._on_message(v, {"type": "maps", "method": "cam", "start": 1, "stop": 3}, [])
    content, buffers = sent[-1]
    assert content == {"type": "maps", "method": "cam", "start": 1, "stop": 3}
    rows = np.frombuffer(buffers[0], np.uint8).reshape(2, 48)
    np.testing.assert_array_equal(rows, quantize(exp.maps["cam"])[0][1:3])
    v._on_message(v, {"type": "maps", "method": "cam", "start": 3, "stop": 9}, [])
    assert sent[-1][0]["type"] == "maps" and "out of range" in sent[-1][0]["error"] and not sent[-1][1]
    v._on_message(v, {"type": "something else"}, [])
    assert sent[-1] == ({"type": "something else", "error": sent[-1][0]["error"]}, None)
    assert "unknown message type 'something else'" in sent[-1][0]["error"]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "maps", "method": "cam", "start": "1", "stop": 3}, "start must be an integer, got str"),
        ({"type": "maps", "method": "cam", "start": 1.5, "stop": 3}, "start must be an integer, got float"),
        ({"type": "maps", "method": "cam", "start": True, "stop": 3}, "start must be an integer, got bool"),
        ({"type": "maps", "method": "cam", "start": 1}, "stop must be an integer, got NoneType"),
        ({"type": "maps", "method": ["cam"], "start": 0, "stop": 1}, "method must be a string, got list"),
        ({"type": "maps", "method": {"a": 1}, "start": 0, "stop": 1}, "method must be a string, got dict"),
        ({"type": "maps", "method": "gradcam", "start": 0, "stop": 1}, "unknown method 'gradcam'"),
        ({"type": "maps", "method": "cam", "start": 3, "stop": 2}, "out of range for 4 explained tokens"),
        ({"type": "maps", "method": "cam", "start": -1, "stop": 2}, "out of range"),
        ({"type": "maps", "method": "cam", "start": 0, "stop": 10**30}, "out of range"),
        ({"type": "maps", "method": "cam", "start": float("nan"), "stop": 1}, "start must be an integer, got float"),
        ({"method": "cam", "start": 0, "stop": 1}, "unknown message type None"),
        ({"type": ["maps"]}, "unknown message type None"),
        (["maps", "cam", 0, 1], "must be an object like"),
        ("maps", "must be an object like"),
        (None, "must be an object like"),
    ],
)
def test_bad_messages_get_an_error_reply_not_an_exception(exp, monkeypatch, message, error):
    v = tw.TokenMapView(exp, max_inline_bytes=10)
    sent = []
    monkeypatch.setattr(v, "send", lambda content, buffers=None: sent.append((content, buffers)))
    v._on_message(v, message, [])  # must not raise
    [(content, buffers)] = sent
    assert buffers is None and error in content["error"], content
    assert '{type: "maps", method: <name>, start: <row>, stop: <row>}' in content["error"]  # says what to send
    json.dumps(content, allow_nan=False)  # the reply itself always travels (nothing unserialisable echoed)
    if isinstance(message, dict) and message.get("type") == "maps":
        assert content["type"] == "maps" and content["method"] == (
            message["method"] if isinstance(message["method"], str) else None)


def test_good_regions_are_normalised():
    v = tw.TokenMapView(small_record())
    v.region = [np.int64(0), 0.0, np.float32(10), 20, 30.5, 40]
    assert v.region == [0, 0, 10.0, 20.0, 30.5, 40.0] and isinstance(v.region[0], int)
    v.region = (0, 0, 120, 90, 140, 100)  # partly outside the picture: still a region
    assert v.region == [0, 0, 120.0, 90.0, 140.0, 100.0]
    v.region = []
    assert v.region == [] and v.region_shares() == {}


def test_region_shares():
    exp = synthetic_record(["a", "b"], grid=(4, 4), image_size=(40, 40), n_images=2)
    v = tw.TokenMapView(exp)
    assert v.region_shares() == {}
    v.region = [1, 0, 0, 0, 40, 40]  # all of image 2: half the cells of every row
    u8 = quantize(exp.maps["tam"])[0].astype(float)
    expected = u8[:, 16:].sum(1) / u8.sum(1)
    assert list(v.region_shares().values()) == pytest.approx(expected.tolist())
    v.region = [0, 0, 10, 10, 20, 20]  # exactly cell (1, 1) of image 1
    assert list(v.region_shares().values()) == pytest.approx((u8[:, 5] / u8.sum(1)).tolist())
    v.region = [0, 0, 20, 20, 10, 10]  # a box dragged up-left is the same box
    assert list(v.region_shares().values()) == pytest.approx((u8[:, 5] / u8.sum(1)).tolist())
    v.region = [0, 0, 5, 0, 10, 10]  # a quarter of cell (0, 0)... half of its width, all its height
    assert list(v.region_shares().values()) == pytest.approx((0.5 * u8[:, 0] / u8.sum(1)).tolist())


def test_display_shows_the_widget(exp):
    data = exp._repr_mimebundle_()
    bundle = data[0] if isinstance(data, tuple) else data
    assert WIDGET_MIME in bundle and "text/plain" in bundle
    assert isinstance(exp.show(method="cam"), tw.TokenMapView)


def test_without_a_bundle_the_view_says_how_to_build_it(exp, tmp_path, monkeypatch):
    monkeypatch.setattr(base_module, "STATIC", tmp_path)
    with pytest.raises(FileNotFoundError, match="make js"):
        tw.TokenMapView(exp)
    bundle = exp._repr_mimebundle_()  # falls back to the static figure
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n" and "Explanation(" in bundle["text/plain"]
    with pytest.raises(FileNotFoundError, match="make js"):
        exp.to_html(tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
