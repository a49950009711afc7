"""``make demo``: TAM against CAM on the built-in synthetic scene, written as one PNG.

No model is involved: the scene, its caption and the hidden states are built by
:func:`tam_widgets.core.synthetic_example`, with a known answer for where each word is.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from .core import synthetic_example
from .core.synthetic import ANSWER
from .record import legend_text, provenance
from .render import colormap, overlay

WORDS = ("circle", "square", "triangle", "grass")


def demo_figure(cmap: str = "jet"):
    """The demo's matplotlib ``Figure`` (not registered with pyplot): TAM (top) and CAM (bottom) per word.

    TAM maps are shown as computed (one scale with the text: 1 = the token's strongest evidence over
    image and text), CAM maps min-max scaled per word as stored in records; the colour bar and its
    note say so, and the header says that the scene is synthetic and no model is involved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    ex = synthetic_example(n_answer=len(ANSWER) + 1)
    result = ex.tam()
    texts = [ex.token_text(p) for p in result.token_positions]
    h, w = ex.image.shape[:2]
    n_cols = len(WORDS) + 1
    panel_w, gap, margin, title_h = 3.2, 0.2, 0.2, 0.42
    img_h = panel_w * h / w
    header = [
        ("Token Activation Maps (top) against CAM (bottom) on a synthetic scene", 13, "bold", "black"),
        (
            "each column: the map of one caption word; TAM's ECI removes what earlier words leak in "
            "(CAM of 'circle' also lights up the square)",
            9.5,
            "normal",
            "0.25",
        ),
        (f"⚠ {provenance({'synthetic': True})}", 10.5, "bold", "#b00020"),
    ]
    header_h = 0.2 + sum(size / 72 * 1.45 for _, size, _, _ in header) + 0.1
    notes = [
        "top row, " + legend_text("tam") + "; shown as computed",
        "bottom row, " + legend_text("cam"),
    ]
    footer_h = 0.75 + 0.17 * len(notes)
    fig_w = 2 * margin + n_cols * panel_w + (n_cols - 1) * gap
    fig_h = header_h + 2 * (title_h + img_h) + footer_h
    fig = Figure(figsize=(fig_w, fig_h), dpi=100)
    FigureCanvasAgg(fig)
    text_kw = dict(usetex=False, parse_math=False)

    y = 0.2
    for text, size, weight, color in header:
        fig.text(
            0.5, 1 - y / fig_h, text, ha="center", va="top", fontsize=size, fontweight=weight, color=color, **text_kw
        )
        y += size / 72 * 1.45

    def panel(row: int, col: int):
        left = (margin + col * (panel_w + gap)) / fig_w
        bottom = 1 - (header_h + (row + 1) * (title_h + img_h)) / fig_h
        ax = fig.add_axes((left, bottom, panel_w / fig_w, img_h / fig_h))
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    ax = panel(0, 0)
    ax.imshow(ex.image)
    ax.set_title("input image (synthetic)", fontsize=10, **text_kw)
    ax = panel(1, 0)
    ax.axis("off")
    caption = " ".join(t for t in texts if not t.startswith("<"))
    ax.text(0, 0.5, "caption:\n" + textwrap.fill(caption, 34), fontsize=10, va="center", **text_kw)
    for col, word in enumerate(WORDS, start=1):
        i = texts.index(word)
        tam = np.clip(result.maps[i], 0, 1)  # as computed: one scale with the text
        raw = result.raw_maps[i]
        cam = (raw - raw.min()) / max(float(raw.max() - raw.min()), 1e-12)  # min-max, as records store CAM
        ax = panel(0, col)
        ax.imshow(overlay(ex.image, tam, cmap=cmap))
        ax.set_title(f"TAM: {word!r} (peak {float(tam.max()):.2f})", fontsize=10, **text_kw)
        ax = panel(1, col)
        ax.imshow(overlay(ex.image, cam, cmap=cmap))
        ax.set_title(f"CAM baseline: {word!r} (peak 1 by scaling)", fontsize=10, **text_kw)

    bar_w = 4.0
    bar = fig.add_axes(((fig_w - bar_w) / 2 / fig_w, (footer_h - 0.38) / fig_h, bar_w / fig_w, 0.16 / fig_h))
    scale = fig.colorbar(ScalarMappable(Normalize(0, 1), colormap(cmap)), cax=bar, orientation="horizontal")
    scale.set_ticks([0, 0.25, 0.5, 0.75, 1])
    scale.ax.tick_params(labelsize=8, length=2, pad=1)
    for k, note in enumerate(notes):
        y = (footer_h - 0.62 - 0.17 * k) / fig_h
        fig.text(0.5, y, note, ha="center", va="top", fontsize=8.5, color="0.15", **text_kw)
    return fig


def run_demo(out: str | Path = "tam_demo.png") -> Path:
    """Explain the synthetic caption and save CAM vs TAM maps of its object words to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    demo_figure().savefig(out, dpi=100)
    return out


def object_focus(result, ex, word: str) -> tuple[float, float]:
    """Share of the map's mass inside ``word``'s object for TAM and for CAM (higher is better)."""
    texts = [ex.token_text(p) for p in result.token_positions]
    i, mask = texts.index(word), ex.object_masks[word]
    tam, cam = result.maps[i].astype(np.float64), result.raw_maps[i].astype(np.float64)
    return float(tam[mask].sum() / max(tam.sum(), 1e-12)), float(cam[mask].sum() / max(cam.sum(), 1e-12))
