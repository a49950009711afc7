"""``make demo``: TAM against CAM on the built-in synthetic scene, written as one PNG."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from .core import synthetic_example
from .core.synthetic import ANSWER
from .render import overlay

WORDS = ("circle", "square", "triangle", "grass")


def run_demo(out: str | Path = "tam_demo.png") -> Path:
    """Explain the synthetic caption and save CAM vs TAM maps of its object words to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ex = synthetic_example(n_answer=len(ANSWER) + 1)
    result = ex.tam()
    texts = [ex.token_text(p) for p in result.token_positions]
    fig, axes = plt.subplots(2, len(WORDS) + 1, figsize=(3.2 * (len(WORDS) + 1), 5.4))
    axes[0, 0].imshow(ex.image)
    axes[0, 0].set_title("input image")
    axes[1, 0].axis("off")
    caption = " ".join(t for t in texts if not t.startswith("<"))
    axes[1, 0].text(0, 0.5, "caption:\n" + textwrap.fill(caption, 30), fontsize=10, va="center")
    for col, word in enumerate(WORDS, start=1):
        i = texts.index(word)
        raw = result.raw_maps[i] / max(float(result.raw_maps[i].max()), 1e-12)
        tam = result.maps[i] / max(float(result.maps[i].max()), 1e-12)
        axes[0, col].imshow(overlay(ex.image, tam))
        axes[0, col].set_title(f"TAM: {word!r}")
        axes[1, col].imshow(overlay(ex.image, raw))
        axes[1, col].set_title(f"CAM baseline: {word!r}")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Token Activation Maps on a synthetic scene (ECI removes what earlier words leak in)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def object_focus(result, ex, word: str) -> tuple[float, float]:
    """Share of the map's mass inside ``word``'s object for TAM and for CAM (higher is better)."""
    texts = [ex.token_text(p) for p in result.token_positions]
    i, mask = texts.index(word), ex.object_masks[word]
    tam, cam = result.maps[i].astype(np.float64), result.raw_maps[i].astype(np.float64)
    return float(tam[mask].sum() / max(tam.sum(), 1e-12)), float(cam[mask].sum() / max(cam.sum(), 1e-12))
