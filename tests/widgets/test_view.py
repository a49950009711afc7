"""TokenMapView on the Python side: traits, validation, on-demand rows, region shares, display."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

import tam_widgets as tw
from tam_widgets.testing.records import small_record, synthetic_record
from tam_widgets.widgets import view as view_module
from tam_widgets.widgets.payload import quantize

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def exp():
    return small_record()


def test_view_starts_on_the_first_answer_token(exp):
    v = tw.TokenMapView(exp)
    assert v.selected == 12 and v.token.text == " A" and v.method == "tam" and v.colormap == "jet"
    assert isinstance(v._payload["maps"]["tam"], memoryview)
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
    assert v._payload["maps"] == {k: None for k in exp.methods}
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
    assert len(sent) == 2


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
    monkeypatch.setattr(view_module, "STATIC", tmp_path)
    with pytest.raises(FileNotFoundError, match="make js"):
        tw.TokenMapView(exp)
    bundle = exp._repr_mimebundle_()  # falls back to the static figure
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n" and "Explanation(" in bundle["text/plain"]
    with pytest.raises(FileNotFoundError, match="make js"):
        exp.to_html(tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
