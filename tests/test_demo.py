import numpy as np
from PIL import Image

from tam_widgets.cli import main


def test_demo_writes_a_png(tmp_path, capsys):
    out = tmp_path / "sub" / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 300 and img.shape[1] > 1000
    assert img[..., :3].std() > 20  # a real picture, not a blank canvas


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


def test_demo_says_no_model_is_involved_and_has_a_legend():
    from tam_widgets.demo import demo_figure
    from tam_widgets.record import legend_text, provenance

    fig = demo_figure()
    joined = " ".join(t.get_text() for t in _texts(fig))
    assert provenance({"synthetic": True}) in joined and "no model involved" in joined
    assert legend_text("tam") in joined and legend_text("cam") in joined
    bars = [ax for ax in fig.axes if ax.collections and not ax.images]
    assert len(bars) == 1  # the colour bar, 0 to 1
    assert bars[0].get_xlim() == (0.0, 1.0)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert "TAM: 'circle' (peak 0.68)" in titles and "CAM baseline: 'grass' (peak 1 by scaling)" in titles


def test_demo_text_overlaps_no_picture():
    from tam_widgets.demo import demo_figure

    fig = demo_figure()
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    pictures = [ax.get_window_extent(renderer) for ax in fig.axes if ax.images]
    page = fig.bbox
    assert len(pictures) == 9
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, text.get_text()
        for pic in pictures:
            assert not box.overlaps(pic), f"{text.get_text()!r} overlaps a picture"
