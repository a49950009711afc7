"""Display rules shared by the figure and the widgets: the method vocabulary, labels, dark text."""

from __future__ import annotations


def test_tam_and_cam_legends_say_their_scales_differ():
    from tam_widgets.record import legend_text

    assert "image and text" in legend_text("tam") and "not comparable with TAM" in legend_text("cam")
