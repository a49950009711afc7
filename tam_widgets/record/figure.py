"""The paper-style figure of a record (:meth:`Explanation.figure`) and its overlay PNGs (:meth:`Explanation.save_pngs`).

Matplotlib is imported only when a figure is drawn. The strip under each panel shades words by the
token's text relevance on the map's display scale; text on a dark shade is white by the one rule of
:func:`~tam_widgets.record.display.text_is_dark`.
"""

from __future__ import annotations

import functools
import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..words import cover_words
from .display import escape_controls, format_prob, legend_text, method_label, provenance, text_is_dark

if TYPE_CHECKING:
    from .model import Explanation, Token


@functools.cache
def _figure_class() -> type:
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A ``Figure`` that Jupyter shows as a PNG without pyplot (pyplot never holds it, so none leaks)."""

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png")
            return buf.getvalue()

    return NotebookFigure


def new_figure(**kwargs):
    """A matplotlib ``Figure`` (``kwargs`` as ``Figure``'s) that shows itself in Jupyter as a PNG, even in a kernel
    where pyplot was never imported; every figure the package draws is one.

    >>> fig = new_figure(figsize=(2, 1), dpi=50)
    >>> fig._repr_png_()[:4]
    b'\\x89PNG'
    """
    return _figure_class()(**kwargs)


def figure(
    exp: Explanation,
    tokens: int | Token | list[int | Token] | None = None,
    method: str = "tam",
    grid: int | str | list[int | str] = 0,
    cmap: str = "jet",
    max_tokens: int = 8,
    frame: int | None = None,
    ncols: int = 4,
    turn: int | None = None,
    context: int | None = None,
):
    """:meth:`Explanation.figure <tam_widgets.record.model.Explanation.figure>` (its docstring says what is drawn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Rectangle

    from ..render import colormap

    exp._method(method)
    relevance_cmap = colormap(cmap)
    grid_ids = [exp._grid(x) for x in (grid if isinstance(grid, (list, tuple)) else [grid])]
    if not grid_ids:
        raise ValueError(f"grid=[] selects no picture; grids are {exp._grid_labels()}")
    if isinstance(max_tokens, (bool, np.bool_)) or not isinstance(max_tokens, (int, np.integer)) or max_tokens < 1:
        raise ValueError(f"max_tokens must be an int >= 1, got {max_tokens!r}")
    if context is not None and (
        isinstance(context, (bool, np.bool_)) or not isinstance(context, (int, np.integer)) or context < 0
    ):
        raise ValueError(f"context must be None (the whole text) or an int >= 0, got {context!r}")
    chosen, which = _figure_tokens(exp, tokens, turn, int(max_tokens))
    rows = [exp._row(i) for i in chosen]
    shown_frames = []
    for gi in grid_ids:
        t = len(exp.grids[gi].frames)
        shown_frames.append(list(range(t)) if frame is None else [exp._frame(gi, frame)])
    text_kw = dict(usetex=False, parse_math=False)
    fs, small = 8.5, 7.5
    font = FontProperties(size=fs)
    bold = FontProperties(size=fs, weight="bold")
    panel_w, gap, margin, title_h, line_h = 3.2, 0.25, 0.15, 0.32, fs / 72 * 1.55

    fig = new_figure(dpi=100)
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()

    def width(s: str, prop: FontProperties) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0] / fig.dpi

    panels, rescaled = [], False
    for idx, row in zip(chosen, rows):
        pic = _tile([exp.overlay(idx, method, gi, f, cmap) for gi, fr in zip(grid_ids, shown_frames) for f in fr])
        items, n_lines = _strip_layout(exp, idx, row, method, panel_w, line_h, width, font, bold, context)
        kept = [
            f"{t!r} {format_prob(p)}"
            for i, t, p in zip(exp.candidate_ids[row], exp.candidate_texts[row], exp.candidate_probs[row])
            if int(i) >= 0
        ]
        cands = ("top-k: " + "  ".join(kept)) if kept else "top-k: none (not a generated token)"
        cand_lines = _wrap(cands, panel_w, lambda s: width(s, FontProperties(size=small)))
        _, lo, span = exp._display(idx, method)
        scaled = "" if (lo, span) == (0.0, 1.0) else f"  ·  scaled from [{lo:.3g}, {lo + span:.3g}]"
        rescaled = rescaled or bool(scaled)
        panels.append((idx, pic, items, n_lines, cand_lines, scaled))

    ncols = max(1, min(int(ncols), len(panels)))
    layout = []  # per figure row: (image height, text height)
    for r in range(0, len(panels), ncols):
        group = panels[r : r + ncols]
        img_h = max(min(p[1].shape[0] / p[1].shape[1], 1.3) for p in group) * panel_w
        txt_h = max(p[3] * line_h + len(p[4]) * small / 72 * 1.45 + 0.2 for p in group)
        layout.append((img_h, txt_h))
    fig_w = 2 * margin + ncols * panel_w + (ncols - 1) * gap

    # Header: what is shown (map kind, pictures, turns, tokens, model) and any provenance warning.
    def wrapped(text: str, size: float, weight: str = "normal") -> list[str]:
        return _wrap(text, fig_w - 2 * margin, lambda s: width(s, FontProperties(size=size, weight=weight)))

    model = exp.metadata.get("model_id") or "unknown model"
    pictures = " + ".join(_picture_text(exp, gi, fr) for gi, fr in zip(grid_ids, shown_frames))
    title = wrapped(f"{method_label(method)} maps on {pictures}  ·  {model}", 11, "bold")
    others = [f"{k} {g.label!r}" for k, g in enumerate(exp.grids) if k not in grid_ids]
    if others:
        which += f"; other pictures: grid={', '.join(others)}"
    subtitle = wrapped(which, 8.5)
    warning = provenance(exp.metadata)
    warn_lines = wrapped(f"⚠ {warning}", 9.5, "bold") if warning else []
    head_lines = [(s, 11, "bold", "black") for s in title] + [(s, 8.5, "normal", "0.25") for s in subtitle]
    head_lines += [(s, 9.5, "bold", "#b00020") for s in warn_lines]
    sup_h = 0.12 + sum(size / 72 * 1.4 for _, size, _, _ in head_lines) + 0.08
    note = wrapped(_legend_note(method, rescaled), 7.5)
    legend_h = 0.62 + len(note) * 0.13
    fig_h = sup_h + sum(title_h + a + b for a, b in layout) + legend_h
    fig.set_size_inches(fig_w, fig_h)
    y = 0.12
    for s, size, weight, color in head_lines:
        fig.text(0.5, 1 - y / fig_h, s, ha="center", va="top", fontsize=size, fontweight=weight, color=color, **text_kw)
        y += size / 72 * 1.4

    top = sup_h
    for r, (img_h, txt_h) in enumerate(layout):
        for c, (idx, pic, items, n_lines, cand_lines, scaled) in enumerate(panels[r * ncols : (r + 1) * ncols]):
            left = (margin + c * (panel_w + gap)) / fig_w
            ax = fig.add_axes((left, 1 - (top + title_h + img_h) / fig_h, panel_w / fig_w, img_h / fig_h))
            ax.imshow(pic)
            ax.set_axis_off()
            tok = exp.tokens[idx]
            ax.set_title(f"{_visible(tok.label)}  (token {idx}){scaled}", fontsize=9.5 if not scaled else 8, **text_kw)
            tx = fig.add_axes((left, 1 - (top + title_h + img_h + txt_h) / fig_h, panel_w / fig_w, txt_h / fig_h))
            tx.set_xlim(0, panel_w)
            tx.set_ylim(txt_h, 0)
            tx.set_axis_off()
            for x, line, text, style, v in items:
                y = 0.08 + (line + 0.5) * line_h
                w = width(text, bold if style == "target" else font)
                color = "black"
                if style == "target":
                    tx.add_patch(
                        Rectangle(
                            (x - 0.02, y - line_h * 0.45),
                            w + 0.04,
                            line_h * 0.9,
                            facecolor="#fff2a8",
                            edgecolor="black",
                            linewidth=1.0,
                            zorder=1,
                        )
                    )
                elif style == "context" and v > 0:
                    rgb = np.asarray(relevance_cmap(v)[:3])
                    face = 1 - v * (1 - rgb)
                    tx.add_patch(
                        Rectangle(
                            (x - 0.01, y - line_h * 0.45),
                            w + 0.02,
                            line_h * 0.9,
                            facecolor=face,
                            edgecolor="none",
                            zorder=1,
                        )
                    )
                    if text_is_dark(face):
                        color = "white"
                elif style == "later":
                    color = "0.6"
                tx.text(
                    x,
                    y,
                    text,
                    fontproperties=bold if style == "target" else font,
                    color=color,
                    va="center",
                    ha="left",
                    zorder=2,
                    clip_on=True,
                    **text_kw,
                )
            y = 0.08 + n_lines * line_h + 0.06
            for line in cand_lines:
                tx.text(0, y, line, fontsize=small, color="0.25", va="top", ha="left", clip_on=True, **text_kw)
                y += small / 72 * 1.45
        top += title_h + img_h + txt_h
    _legend(fig, fig_w, fig_h, margin, legend_h, relevance_cmap, note, text_kw)
    return fig


def _picture_text(exp, gi: int, frames: list[int]) -> str:
    """How a title names the pictures shown of ``grids[gi]``, e.g. ``video 1 (grid 1 of 2), frames 1-4``."""
    g = exp.grids[gi]
    where = f"{g.label} (grid={gi} of {len(exp.grids)} grids)" if len(exp.grids) > 1 else g.label
    t = len(g.frames)
    if t == 1:
        return where
    if len(frames) == 1:
        return f"{where}, frame {frames[0] + 1} of {t}"
    return f"{where}, frames 1-{t} side by side"


def _figure_tokens(exp, tokens, turn, max_tokens: int) -> tuple[list[int], str]:
    """The token indices a figure shows, and the sentence that says which they are."""

    def turns_text(idx: list[int]) -> str:
        ts = sorted({exp.tokens[i].turn for i in idx})
        n_turns = len({t.turn for t in exp.tokens})
        return f"turn {ts[0] + 1} of {n_turns}" if len(ts) == 1 else f"turns {', '.join(str(t + 1) for t in ts)}"

    if tokens is not None:
        if turn is not None:
            raise ValueError("pass tokens= or turn=, not both (tokens= already says which tokens)")
        many = isinstance(tokens, (list, tuple, np.ndarray))
        chosen = [exp.token_index(t) for t in (tokens if many else [tokens])]
        if not chosen:
            raise ValueError(
                f"tokens=[] selects no token: pass token indices or Tokens; explained tokens "
                f"(index text): {exp._explained_listing()}"
            )
        for i in chosen:
            exp._row(i)
        return chosen, f"tokens {_ranges(chosen)} as chosen ({turns_text(chosen)})"
    pool = [int(i) for i in exp.explained]
    if not pool:
        raise ValueError("no token to show: this explanation has no explained tokens")
    turns = sorted({exp.tokens[i].turn for i in pool})
    scope = ""
    if turn is not None:
        if isinstance(turn, (bool, np.bool_)) or not isinstance(turn, (int, np.integer)):
            raise TypeError(f"turn must be an int (Token.turn; -1 for the last), got {type(turn).__name__}")
        all_turns = sorted({t.turn for t in exp.tokens})
        if not -len(all_turns) <= turn < len(all_turns):
            raise IndexError(f"turn {turn} is out of range; this conversation has turns {all_turns}")
        want = all_turns[int(turn)]
        pool = [i for i in pool if exp.tokens[i].turn == want]
        if not pool:
            raise ValueError(f"turn {want} has no explained tokens; turns with maps: {turns}")
        scope = " of that turn"
    answer = [i for i in pool if exp.tokens[i].role == "answer"]
    kind = "explained answer tokens" if answer else "explained tokens"
    pool = answer or pool
    chosen = pool[:max_tokens]
    first = f"the first {len(chosen)} of {len(pool)}" if len(chosen) < len(pool) else f"all {len(pool)}"
    hint = "; pick others with tokens=, turn=, max_tokens=" if len(chosen) < len(pool) or len(turns) > 1 else ""
    return chosen, f"tokens {_ranges(chosen)}: {first} {kind}{scope} ({turns_text(chosen)}){hint}"


def _strip_layout(exp, idx, row, method, panel_w, line_h, width, font, bold, context=None):
    """Place the words of the text: ``[(x, line, text, style, relevance)]`` and the line count.

    ``style`` is ``"context"`` (before the explained token, shaded by relevance), ``"target"`` or
    ``"later"``; specials are skipped, a role/turn change or a newline starts a new line. With
    ``context``, words wholly more than ``context`` tokens from ``idx`` are left out and a grey ``…``
    stands for each cut.
    """
    _, lo, span = exp._display(idx, method)
    rel = np.nan_to_num(exp.text_relevance[row].astype(np.float32), posinf=0, neginf=0)
    rel = np.where(rel != 0, np.clip((rel - lo) / span if span > 0 else 0 * rel, 0, 1), 0)
    # Tokenizers that keep a word's leading space in its text show spaces themselves.
    spaced = any(t.text[:1].isspace() or t.text.startswith("▁") for t in exp.tokens[1:])
    space = width("a a", font) - width("aa", font)
    items, x, line, prev_key = [], 0.0, 0, None
    cut_before = cut_after = False
    for s, e in cover_words(exp.words, len(exp.tokens)):
        toks = [i for i in range(s, e) if exp.tokens[i].role != "special"]
        if not toks:
            continue
        if context is not None and (toks[-1] < idx - context or toks[0] > idx + context):
            cut_before, cut_after = cut_before or toks[-1] < idx, cut_after or toks[0] > idx
            continue
        if cut_before and not items:
            items.append((0.0, 0, "…", "later", 0.0))
            x = width("… ", font)
        key = (exp.tokens[toks[0]].role, exp.tokens[toks[0]].turn)
        if prev_key is not None and key != prev_key and x > 0:
            x, line = 0.0, line + 1
        prev_key = key
        raw = escape_controls("".join(exp.tokens[i].text for i in toks)).replace("▁", " ")
        gap = raw[:1].isspace() or (not spaced and raw.lstrip()[:1].isalnum())
        v = max((float(rel[i]) for i in toks if i < idx), default=0.0)
        runs: list[list] = []  # [text, style] merged over consecutive tokens of one style
        for i in toks:
            style = "context" if i < idx else "target" if i == idx else "later"
            text = escape_controls(exp.tokens[i].text).replace("▁", " ").replace("\t", " ").replace("\r", "")
            if style == "target" and exp.tokens[i].raw_bytes is not None:
                text = exp.tokens[i].label  # a byte fragment: its bytes, not a lone "�"
            elif style == "target" and not text.strip():
                text = "↵" if "\n" in text else "␣"
            if runs and runs[-1][1] == style:
                runs[-1][0] += text
            else:
                runs.append([text, style])
        runs[0][0] = runs[0][0].lstrip(" ")
        segments: list[list] = [[]]  # pieces between newlines
        for text, style in runs:
            parts = text.split("\n")
            for k, part in enumerate(parts):
                if k:
                    segments.append([])
                if part:
                    segments[-1].append((part, style))
        for k, seg in enumerate(segments):
            if k:
                x, line = 0.0, line + 1
            if not seg:
                continue
            seg_w = sum(width(p, bold if st == "target" else font) for p, st in seg)
            pad = space if (gap and k == 0 and x > 0) else 0.0
            if x > 0 and x + pad + seg_w > panel_w:
                x, line, pad = 0.0, line + 1, 0.0
            x += pad
            for p, st in seg:
                items.append((x, line, p, st, v if st == "context" else 0.0))
                x += width(p, bold if st == "target" else font)
    if cut_after:
        if x + space + width("…", font) > panel_w:
            x, line = 0.0, line + 1
        items.append((x + space if x > 0 else 0.0, line, "…", "later", 0.0))
    return items, line + 1


def save_pngs(
    exp, directory: str | os.PathLike, method: str = "tam", cmap: str = "jet", legend: bool = True
) -> list[Path]:
    """:meth:`Explanation.save_pngs <tam_widgets.record.model.Explanation.save_pngs>` (says what is written)."""
    from PIL import Image

    from ..render import with_legend

    exp._method(method)
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    warning = provenance(exp.metadata)
    written = []
    for row, idx in enumerate(exp.explained):
        tok = exp.tokens[int(idx)]
        name = re.sub(r"[^A-Za-z0-9]+", "_", tok.label).strip("_")[:24] or "tok"
        _, lo, span = exp._display(int(idx), method)
        units = legend_text(method)
        if (lo, span) != (0.0, 1.0):
            units += f"; this map was min-max scaled from [{lo:.3g}, {lo + span:.3g}]"
        for gi, g in enumerate(exp.grids):
            label = re.sub(r"[^A-Za-z0-9]+", "_", g.label).strip("_")
            path = out_dir / f"{row:03d}_{name}_{label}.png"
            picture = exp.overlay(int(idx), method=method, grid=gi, cmap=cmap)
            if legend:
                frame = f", frame 1 of {len(g.frames)}" if len(g.frames) > 1 else ""
                title = f"{_visible(tok.label)} (token {int(idx)}): {method_label(method)} on {g.label}{frame}"
                picture = with_legend(picture, cmap, title, units, warning)
            Image.fromarray(picture).save(path)
            written.append(path)
    return written


def _legend_note(method: str, rescaled: bool) -> str:
    """The words under a figure's colour bar: the map's units, how words are shaded, any rescaling."""
    same = method in ("tam", "eci_only")  # text_relevance is TAM's, on TAM's scale
    note = legend_text(method)
    note += "; words are shaded on the same scale" if same else "; words are shaded by TAM's text relevance (0-1)"
    if rescaled:
        note += "; maps outside 0-1 are min-max scaled per token (range in the panel title)"
    return note


def _legend(fig, fig_w, fig_h, margin, legend_h, cmap, note: list[str], text_kw) -> None:
    """The colour bar at the foot of a figure (0 to 1 on the map's display scale) and its note lines."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    bar_w = min(3.2, fig_w - 2 * margin)
    bar = fig.add_axes(((fig_w - bar_w) / 2 / fig_w, (legend_h - 0.3) / fig_h, bar_w / fig_w, 0.14 / fig_h))
    scale = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), cax=bar, orientation="horizontal")
    scale.set_ticks([0, 0.25, 0.5, 0.75, 1])
    scale.ax.tick_params(labelsize=7, length=2, pad=1)
    y = (legend_h - 0.54) / fig_h
    for k, line in enumerate(note):
        fig.text(0.5, y - k * 0.13 / fig_h, line, ha="center", va="top", fontsize=7.5, color="0.15", **text_kw)


def _ranges(idx: list[int]) -> str:
    """Token indices as short ranges: ``[5, 6, 7, 10]`` -> ``"5-7, 10"``."""
    out, start = [], None
    for k, i in enumerate(idx):
        if start is None:
            start = i
        if k + 1 == len(idx) or idx[k + 1] != i + 1:
            out.append(str(start) if start == i else f"{start}-{i}")
            start = None
    return ", ".join(out)


def _visible(text: str) -> str:
    """A token's text for a title: stripped, or its repr when it is only whitespace."""
    return text.strip() or repr(text)


def _wrap(text: str, max_w: float, width) -> list[str]:
    """Greedy wrap of ``text`` at spaces to lines no wider than ``max_w`` (by ``width``)."""
    lines, cur = [], ""
    for word in text.split(" "):
        trial = f"{cur} {word}" if cur else word
        if cur and width(trial) > max_w:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return [*lines, cur] if cur else lines


def _tile(pictures: list[np.ndarray], gap: int = 4) -> np.ndarray:
    """Pictures side by side at the first one's height, separated by white gaps."""
    if len(pictures) == 1:
        return pictures[0]
    import cv2

    h = pictures[0].shape[0]
    out = []
    for k, p in enumerate(pictures):
        if p.shape[0] != h:
            p = cv2.resize(p, (max(1, round(p.shape[1] * h / p.shape[0])), h), interpolation=cv2.INTER_AREA)
        if k:
            out.append(np.full((h, gap, 3), 255, np.uint8))
        out.append(p)
    return np.concatenate(out, axis=1)
