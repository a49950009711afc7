"""The paper-style figure and the overlay PNGs of a record."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.record import Token

from .conftest import make_explanation


def _image_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.images]


def test_figure_panels_and_png(ex, tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    before = plt.get_fignums()
    fig = ex.figure()
    assert len(_image_axes(fig)) == 5  # every explained answer token
    texts = [t.get_text() for t in fig.findobj(Text)]
    joined = " ".join(texts)
    assert "$" in joined and "<script>" in joined and "$dog$" in joined
    assert "<|im_end|>" not in joined  # specials hidden
    assert not any(t.get_usetex() for t in fig.findobj(Text))
    out = tmp_path / "fig.png"
    fig.savefig(out, dpi=60)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == before  # never registered with pyplot, so no window

    assert len(_image_axes(ex.figure(max_tokens=2))) == 2
    video = ex.figure(tokens=[6, ex.tokens[10]], grid=1, method="cam", ncols=1)
    assert len(_image_axes(video)) == 2
    video.savefig(tmp_path / "video.png", dpi=50)
    single = ex.figure(tokens=8, grid=1, frame=1)
    assert len(_image_axes(single)) == 1
    single.savefig(tmp_path / "single.svg")
    with pytest.raises(ValueError, match="not explained"):
        ex.figure(tokens=[9])


def test_figure_marks_target_and_greys_later_tokens(ex):
    from matplotlib.text import Text

    fig = ex.figure(tokens=[7])
    strip = [t for t in fig.findobj(Text) if t.get_text() in ("costs", "cat", "$5", "<script>")]
    by_text = {t.get_text(): t for t in strip}
    assert by_text["costs"].get_fontweight() == "bold"
    assert by_text["<script>"].get_color() == "0.6"  # later token
    assert by_text["cat"].get_color() != "0.6"


# -- file format ---------------------------------------------------------------------------------


# -- what the figure says it shows ----------------------------------------------------------------
def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_figure_title_says_what_is_shown(ex):
    joined = " ".join(_texts(ex.figure(max_tokens=2)))
    assert "TAM maps on image 1 (grid=0 of 2 grids)" in joined and "test/tiny-vlm" in joined
    assert "tokens 5-6: the first 2 of 5 explained answer tokens (turn 1 of 1)" in joined
    assert "pick others with tokens=, turn=, max_tokens=" in joined and "other pictures: grid=1 'video 1'" in joined
    joined = " ".join(_texts(ex.figure(tokens=[8, 6], grid="video 1", frame=1, method="cam")))
    assert "CAM (baseline) maps on video 1 (grid=1 of 2 grids), frame 2 of 2" in joined
    assert "tokens 8, 6 as chosen" in joined
    both = ex.figure(tokens=6, grid=[0, "video 1"])
    assert "image 1 (grid=0 of 2 grids) + video 1 (grid=1 of 2 grids), frames 1-2 side by side" in " ".join(
        _texts(both)
    )
    (panel,) = _image_axes(both)
    assert panel.images[0].get_array().shape[1] > 3 * 96  # three pictures side by side


def test_figure_has_a_colour_legend_with_units(ex):
    from tam_widgets.record import legend_text

    for method in ("tam", "cam"):
        fig = ex.figure(tokens=[6], method=method)
        bars = [ax for ax in fig.axes if ax.collections and not ax.images]
        assert len(bars) == 1  # the colour bar
        ticks = [t.get_text() for t in bars[0].get_xticklabels()]
        assert ticks[0] in ("0.00", "0.0", "0") and ticks[-1] in ("1.00", "1.0", "1")
        legend = " ".join(_texts(fig))
        assert legend_text(method)[:40] in legend.replace("\n", " ")
    assert "scaled" not in " ".join(_texts(ex.figure(tokens=[6])))
    stretched = make_explanation(maps={"tam": (ex.maps["tam"].astype(np.float32) * 4 - 1).astype(np.float16)})
    joined = " ".join(_texts(stretched.figure(tokens=[6])))
    assert "scaled from [" in joined and "min-max scaled per token" in joined


@pytest.mark.parametrize(
    "metadata, warning",
    [({"untrained": True}, "untrained model"), ({"synthetic": True}, "synthetic scene")],
)
def test_figure_warns_about_untrained_models_and_synthetic_data(metadata, warning):
    ex = make_explanation(metadata={"model_id": "tiny", **metadata})
    assert any(t.startswith(f"⚠ {warning}") for t in _texts(ex.figure(max_tokens=1)))
    assert not any("⚠" in t for t in _texts(make_explanation().figure(max_tokens=1)))


def test_figure_choices_by_turn_and_errors(ex):
    tokens = [Token(t.text, t.id, t.role, 1 if i >= 8 else 0, t.position) for i, t in enumerate(ex.tokens)]
    two = make_explanation(tokens=tokens)
    assert [ax.get_title().split("(token ")[1] for ax in _image_axes(two.figure(turn=-1))] == ["8)", "10)"]
    assert len(_image_axes(two.figure(turn=0))) == 3
    assert "turns 1, 2" in " ".join(_texts(two.figure()))
    with pytest.raises(ValueError, match=r"tokens=\[\] selects no token.*explained tokens.*5 'A'"):
        ex.figure(tokens=[])
    with pytest.raises(ValueError, match="not both"):
        ex.figure(tokens=[6], turn=0)
    with pytest.raises(IndexError, match="turns"):
        two.figure(turn=2)
    with pytest.raises(ValueError, match="max_tokens"):
        ex.figure(max_tokens=0)
    with pytest.raises(ValueError, match="no grid is labelled 'image 9'.*'video 1'"):
        ex.figure(grid="image 9")
    with pytest.raises(ValueError, match=r"grid=\[\] selects no picture"):
        ex.figure(grid=[])
    with pytest.raises(ValueError, match="unknown colormap"):
        ex.figure(cmap="nope")


def test_figure_candidates_as_percentages_and_token_labels():
    tokens = make_explanation().tokens
    tokens[6] = Token("", 106, "answer", 0, 34, raw_bytes=b"\xe2\x80")
    ex = make_explanation(
        tokens=tokens,
        candidate_probs=np.tile(np.array([[0.4123, 0.00123, 1e-9]], np.float32), (5, 1)),
        candidate_ids=np.array([[1, 2, 3]] * 4 + [[-1, -1, -1]]),
    )
    joined = " ".join(_texts(ex.figure()))
    assert "' cat' 41.2%" in joined and "' $dog$' 0.123%" in joined and "'<b>' <0.001%" in joined
    assert "0.41" not in joined and "0.00 " not in joined  # not the old two decimals
    assert "top-k: none (not a generated token)" in joined
    fig = ex.figure(tokens=[6])
    assert [ax.get_title() for ax in _image_axes(fig)] == ["<0xE2><0x80>  (token 6)"]
    assert "<0xE2><0x80>" in _texts(fig)  # the boxed token in the text strip shows its bytes too


def test_save_pngs_have_a_legend_and_provenance(tmp_path):
    from PIL import Image

    from tam_widgets.render import WARNING_RGB, colorize

    ex = make_explanation(metadata={"model_id": "tiny", "untrained": True})
    written = ex.save_pngs(tmp_path / "with")
    assert len(written) == 5 * 2 and written[1].name == "000_A_video_1.png"
    png = np.asarray(Image.open(written[2]))  # token 6 on image 1
    h, w = ex.images[0].shape[:2]
    assert png.shape[0] > h + 60 and png.shape[1] >= 420
    left = (png.shape[1] - w) // 2
    np.testing.assert_array_equal(png[:h, left : left + w], ex.overlay(6))
    foot = png[h:].reshape(-1, 3).astype(int)
    ramp = colorize(np.linspace(0, 1, 9)[None], "jet")[0].astype(int)
    for colour in ramp:  # the colour bar: every colour of the scale, 0 to 1
        assert (np.abs(foot - colour).sum(1) < 30).any(), colour
    assert (np.abs(foot - np.array(WARNING_RGB)).sum(1) < 30).sum() > 50  # the red warning
    plain = np.asarray(Image.open(make_explanation().save_pngs(tmp_path / "trained")[2]))
    assert not (np.abs(plain[h:].reshape(-1, 3).astype(int) - np.array(WARNING_RGB)).sum(1) < 30).any()
    bare = ex.save_pngs(tmp_path / "bare", legend=False)
    np.testing.assert_array_equal(np.asarray(Image.open(bare[2])), ex.overlay(6))


def test_save_pngs_names_byte_fragments_by_label(tmp_path):
    tokens = make_explanation().tokens
    tokens[6] = Token("\ufffd", 106, "answer", 0, 34, raw_bytes=b"\xe2\x80")
    written = make_explanation(tokens=tokens).save_pngs(tmp_path, method="cam")
    assert written[2].name == "001_0xE2_0x80_image_1.png"
    with pytest.raises(ValueError, match="unknown method"):
        make_explanation().save_pngs(tmp_path, method="nope")


def test_control_characters_show_as_escapes_in_figures_and_labels():
    """A token holding a control character is drawn as its escape: no missing-glyph warning, nothing invisible."""
    import dataclasses
    import warnings

    from tam_widgets.testing.records import small_record

    exp = small_record()
    i = int(exp.explained[0])
    exp.tokens[i] = dataclasses.replace(exp.tokens[i], text=" a\x11b\x7f")
    assert exp.tokens[i].label == " a\\x11b\\x7f"
    assert Token("x\ny\tz", 1, "answer", 0, 0).label == "x\ny\tz"  # layout characters stay
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exp.figure(tokens=[i]).canvas.draw()


def test_figure_context_keeps_the_words_near_the_token():
    ex = make_explanation()
    whole = _texts(ex.figure(tokens=[7]))
    assert "Describe" in whole and "<script>" in whole and "…" not in whole
    near = _texts(ex.figure(tokens=[7], context=1))
    assert "cat" in near and "costs" in near and "$5" in near  # the words of tokens 6-8
    assert "Describe" not in near and "scene" not in near and "<script>" not in near
    assert near.count("…") == 2  # one mark for each cut
    assert _texts(ex.figure(tokens=[5], context=0)).count("…") == 2
    with pytest.raises(ValueError, match="context must be"):
        ex.figure(context=-1)


def test_every_figure_shows_itself_in_jupyter_without_pyplot(ex):
    """A cell ending in ``exp.figure()`` shows the picture in a kernel where pyplot was never imported (and
    pyplot's figure list never holds it)."""
    import subprocess
    import sys

    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(ex.figure())
    assert data["image/png"][:4] == b"\x89PNG"
    code = ("import sys, numpy as np\nfrom tam_widgets.testing.records import synthetic_record\n"
            "from IPython.core.formatters import DisplayFormatter\n"
            "data, _ = DisplayFormatter().format(synthetic_record().figure())\n"
            "assert 'image/png' in data and 'matplotlib.pyplot' not in sys.modules, sorted(data)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
