"""Display rules shared by the figure and the widgets: the method vocabulary, labels, dark text, the viewer hook."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.record import display

from .conftest import make_explanation


def test_tam_and_cam_legends_say_their_scales_differ():
    from tam_widgets.record import legend_text

    assert "image and text" in legend_text("tam") and "not comparable with TAM" in legend_text("cam")


# -- the method vocabulary ---------------------------------------------------------------------------
def test_one_method_vocabulary():
    import tam_widgets.methods as tm
    from tam_widgets.explain import RECORD_METHODS
    from tam_widgets.record import METHOD_INFO, legend_text, method_label

    assert RECORD_METHODS == tuple(METHOD_INFO) == ("tam", "cam", "eci_only", "filter_only")
    assert set(METHOD_INFO) <= set(tm.METHODS), "every stored map kind must be a registered method"
    for name, (label, legend) in METHOD_INFO.items():
        assert method_label(name) == label and legend_text(name) == legend and label and legend
    assert method_label("rollout") == "rollout" and legend_text("rollout") == "rollout activation (0-1)"


def test_stored_maps_are_what_the_registered_methods_compute():
    """Same name, same meaning: each map kind a record stores equals its registered method's maps."""
    from skimage import data

    import tam_widgets as tw
    from tam_widgets.methods import compute
    from tam_widgets.record import METHOD_INFO
    from tam_widgets.testing import tiny_model

    picture = np.ascontiguousarray(data.astronaut()[::2, ::2][:224, :224])
    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=4).chat(images=[picture])
    exp = chat.ask("Describe this image.")
    inp = chat.method_input()
    positions = [exp.tokens[int(i)].position for i in exp.explained]
    assert positions == list(range(inp.answer_start, inp.answer_end))
    assert exp.methods == list(METHOD_INFO)
    for name in METHOD_INFO:
        stored = exp.maps[name].astype(np.float32)
        np.testing.assert_allclose(stored, compute(name, inp), atol=1e-3, err_msg=name)  # float16 storage


# -- the dark-text rule ------------------------------------------------------------------------------
def test_dark_text_rule_is_relative_luminance_below_the_threshold():
    from tam_widgets.record import DARK_TEXT_LUMINANCE, relative_luminance, text_is_dark

    assert DARK_TEXT_LUMINANCE == 0.22
    assert relative_luminance((1, 1, 1)) == pytest.approx(1) and relative_luminance((0, 0, 0)) == 0
    assert relative_luminance((0, 1, 0)) == pytest.approx(0.7152)
    grey = 0.5  # sRGB 0.5 is linear 0.214: just below the threshold, so white text
    assert relative_luminance((grey,) * 3) == pytest.approx(0.2140, abs=1e-4) and text_is_dark((grey,) * 3)
    assert not text_is_dark((0.52, 0.52, 0.52))


def _strip_color(name: str, v: float) -> np.ndarray:
    """A strip word's background as both the figure and the page compute it: the colour blended toward white."""
    from tam_widgets.render import colormap

    rgb = np.asarray(colormap(name)(float(v))[:3])  # a float: an int would index the colour table
    return np.round((1 - v * (1 - rgb)) * 255) / 255


def test_dark_text_rule_agrees_with_the_page_reference_values():
    """js/test/colormaps.test.ts: tokenColor('jet', 0 / 1), ('viridis', 0.5) and ('inferno', 1).dark."""
    from tam_widgets.record import text_is_dark

    assert not text_is_dark(_strip_color("jet", 0))
    assert np.allclose(_strip_color("jet", 1), [128 / 255, 0, 0]) and text_is_dark(_strip_color("jet", 1))
    assert not text_is_dark(_strip_color("viridis", 0.5))
    assert not text_is_dark(_strip_color("inferno", 1))


def test_the_figure_strip_uses_the_one_rule(monkeypatch):
    from matplotlib.patches import Rectangle
    from matplotlib.text import Text

    from tam_widgets.record import figure

    asked = []

    def rule(rgb):
        asked.append(np.asarray(rgb))
        return True  # everything dark: every shaded word must be white

    monkeypatch.setattr(figure, "text_is_dark", rule)
    fig = make_explanation().figure(tokens=[10])
    strip = [ax for ax in fig.axes if not ax.images and not ax.collections]
    shaded = [p for ax in strip for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[3] == 0]
    white = [t for ax in strip for t in ax.findobj(Text) if t.get_text() and t.get_color() == "white"]
    assert asked and len(shaded) == len(asked) == len(white)


# -- the viewer hook ---------------------------------------------------------------------------------
def test_the_record_shows_itself_through_the_registered_viewer(monkeypatch, tmp_path):
    monkeypatch.setattr(display, "_VIEWER", {})
    ex = make_explanation()
    for call in (ex.show, lambda: ex.to_html(tmp_path / "x.html"), ex._repr_mimebundle_):
        with pytest.raises(RuntimeError, match=r"no viewer is registered.*import tam_widgets\.widgets"):
            call()

    class Shown:
        def __init__(self, exp, **view):
            self.exp, self.view = exp, view

        def _repr_mimebundle_(self, include=None, exclude=None):
            return {"text/plain": f"shown {self.view}"}

    pages = []
    display.register_viewer(Shown, lambda exp, path, **view: pages.append((exp, path, view)) or path)
    shown = ex.show(method="cam")
    assert isinstance(shown, Shown) and shown.exp is ex and shown.view == {"method": "cam"}
    assert ex.to_html(tmp_path / "p.html", opacity=0.3) == tmp_path / "p.html"
    assert pages == [(ex, tmp_path / "p.html", {"opacity": 0.3})]
    assert ex._repr_mimebundle_() == {"text/plain": "shown {}"}
    with pytest.raises(TypeError, match="two callables"):
        display.register_viewer(Shown, None)


def test_importing_tam_widgets_registers_the_explorer():
    import tam_widgets as tw
    from tam_widgets.widgets import to_html

    assert display.viewer("show") is tw.TokenMapView and display.viewer("to_html") is to_html
