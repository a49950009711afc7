"""The synced attributes: one spec for the widget traits and the page document."""

from __future__ import annotations

import pytest

import tam_widgets as tw
from tam_widgets.testing.records import small_record
from tam_widgets.widgets import state
from tam_widgets.widgets.html import page_document


def test_traits_and_page_share_the_defaults():
    exp = small_record()
    view = tw.TokenMapView(exp)
    doc = page_document("token_map", [exp])
    defaults = state.defaults()
    assert defaults == {"selected": -1, "method": "tam", "colormap": "jet", "opacity": 0.55, "show_specials": False,
                        "frame": 0, "region": []}
    for name, default in defaults.items():
        assert tw.TokenMapView.class_traits()[name].default() == default, name
        if name != "selected":  # both start on the first answer token
            assert getattr(view, name) == doc["state"][name] == default, name
    assert view.selected == doc["state"]["selected"] == 12


def test_page_document_shape():
    exp = small_record()
    doc = page_document("token_map", [exp, exp], {"colormap": "viridis"})
    assert (doc["format"], doc["version"], doc["view"]) == ("tam-widgets-page", 1, "token_map")
    assert [r["id"] for r in doc["records"]] == ["r0", "r1"]
    assert set(doc["records"][0]) == {"id", "meta", "buffers"}
    assert set(doc["records"][0]["buffers"]) == {"maps", "scales", "relevance", "images"}
    assert doc["records"][0]["meta"]["dark_text_below"] == pytest.approx(0.22, abs=0.2)
    assert doc["state"]["colormap"] == "viridis"


@pytest.mark.parametrize(
    ("view", "records", "st", "error", "message"),
    [
        ("chat", None, {}, ValueError, "unknown view 'chat'"),
        ("token_map", [], {}, ValueError, "at least one record"),
        ("token_map", None, {"opacity": 2}, ValueError, r"opacity must be in \[0, 1\]"),
        ("token_map", None, {"frame": 3}, ValueError, r"frame must be in 0\.\.0"),
        ("token_map", None, {"region": [0, 0, 5, 5, 5, 9]}, ValueError, "empty box"),
        ("token_map", None, {"zoom": 2}, TypeError, r"unknown view attribute\(s\) \['zoom'\]"),
    ],
)
def test_page_state_is_checked_like_the_traits(view, records, st, error, message):
    with pytest.raises(error, match=message):
        page_document(view, [small_record()] if records is None else records, st)
