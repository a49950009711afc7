"""The ``Explanation`` record: tokens, maps, geometry, images, and its lossless file format.

An explanation holds, for one conversation with a vision-language model:

* ``tokens``: every text token of the conversation in order (template/special tokens included,
  visual placeholder tokens excluded), each a :class:`Token` with ``.text``, ``.id``, ``.role``
  (``"prompt"``, ``"answer"`` or ``"special"``), ``.turn`` and ``.position`` in the sequence;
* ``explained``: indices into ``tokens`` of the tokens that have maps;
* ``maps``: ``{method: float16 [n_explained, n_visual]}`` over all visual tokens of the
  conversation (``"tam"``, ``"cam"``, and ablations), split per image/video by ``grids``;
* ``text_relevance``: float16 ``[n_explained, n_tokens]``, each explained token's relevance over
  the earlier text tokens, on the map's scale (0 outside its context);
* ``grids``: one :class:`VisualGrid` per image, video or thumbnail: where its tokens sit in the
  visual axis, its token grid, and which pixel box of which stored image each frame covers;
* ``images``: the (downscaled) RGB images and video frames, uint8;
* ``candidates``: the top-k next-token candidates and probabilities of each explained token;
* ``words``: ``[n_words, 2]`` half-open token index ranges grouping tokens into words;
* ``metadata``: model id and revision, dtype, generation settings, package version, ...

In a notebook ``exp`` (or ``exp.show()``) is the interactive explorer
(:class:`tam_widgets.widgets.TokenMapView`); ``exp.to_html(path)`` writes it as one offline page;
``exp.figure()`` draws the paper's static figure.

File format (:meth:`Explanation.save`, :meth:`Explanation.load`), version 1: one ``.npz`` zip
archive (suggested extension ``.tam``) of plain ``.npy`` entries (never pickles), holding

* ``header``: uint8 bytes of a UTF-8 JSON object ``{"format": "tam-widgets-explanation",
  "version": 1, "writer", "methods", "n_images", "tokens": [{"text", "id", "role", "turn",
  "position", and "raw_bytes" (hex) only for a byte-fragment token}, ...], "grids": [{"kind",
  "label", "offset", "grid", "frames"}, ...], "candidate_texts", "metadata"}``;
* ``explained``, ``text_relevance``, ``candidate_ids``, ``candidate_probs``, ``words``;
* ``maps_<j>`` for the ``j``-th name of ``header["methods"]``, ``image_<i>`` for each stored
  picture and ``boxes_<g>`` for each grid, every array with its own dtype (bit-exact).

Readers ignore header keys they do not know, so files with ``raw_bytes`` load in older versions
(as text only). :meth:`Explanation.load` refuses anything else with one :class:`RecordError`
naming the file: unknown or missing entries, and entries whose size, dtype or shape (from the
zip directory and the ``.npy`` header, checked before decompressing) disagree with the header.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .io import atomic_write

ROLES = ("prompt", "answer", "special")
FORMAT = "tam-widgets-explanation"
VERSION = 1


#: Control characters a view cannot show (tab, newline and carriage return lay out the text, so they stay).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with control characters other than tab, newline and carriage return as escapes (``\\x11``)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class RecordError(ValueError):
    """A ``.tam`` file (or record data) that cannot be read: its message names the file and what is wrong."""


@dataclass(frozen=True)
class Token:
    """One text token of the conversation.

    ``raw_bytes`` is set only for a token that is not whole characters on its own (a byte
    fragment of a multi-byte character); ``label`` is what views show for it.

    >>> Token("", 5, "answer", 0, 9, raw_bytes=b"\\xe2\\x80").label
    '<0xE2><0x80>'
    """

    text: str
    id: int
    role: str
    turn: int
    position: int
    raw_bytes: bytes | None = None

    @property
    def label(self) -> str:
        r"""The token as views show it: its text, or its bytes as ``<0xE2>`` for a byte fragment.

        Control characters other than newline and tab show as escapes (``\x11``), so no token is
        invisible or drawn as a missing glyph.

        >>> Token("a\x11", 7, "answer", 0, 3).label
        'a\\x11'
        """
        if self.raw_bytes is not None:
            return "".join(f"<0x{b:02X}>" for b in self.raw_bytes)
        return escape_controls(self.text)


@dataclass
class VisualGrid:
    """The visual tokens of one image, video or thumbnail.

    Attributes:
        kind: ``"image"``, ``"video"`` or ``"thumbnail"``.
        label: what to call it in a view, e.g. ``"image 1"``.
        offset: index of its first token on the visual axis of ``Explanation.maps``.
        grid: ``(h, w)`` or ``(t, h, w)``; its tokens are frame after frame, row-major.
        frames: for each of the ``t`` frames (1 for an image), the index in
            ``Explanation.images`` of the picture it covers.
        boxes: float ``[t, 4]``: the ``(x0, y0, x1, y1)`` pixel box of that picture, in the
            stored picture's pixels, that the frame's grid covers (a crop or the whole picture).
    """

    kind: str
    label: str
    offset: int
    grid: tuple[int, ...]
    frames: list[int]
    boxes: np.ndarray

    @property
    def size(self) -> int:
        return int(np.prod(self.grid))


@dataclass
class Explanation:
    """Everything needed to show, save and reload one explained conversation.

    Shapes are checked on construction (``ValueError`` naming them). A tiny example, one 2x2
    image grid over a 4x4 picture and one explained answer token:

    >>> ex = Explanation(
    ...     tokens=[Token("Hi", 1, "prompt", 0, 0), Token(" cat", 2, "answer", 0, 5)],
    ...     explained=np.array([1]), maps={"tam": np.array([[0, 1, 0, 0]], np.float16)},
    ...     text_relevance=np.array([[0.5, 0]], np.float16),
    ...     grids=[VisualGrid("image", "image 1", 0, (2, 2), [0], np.array([[0, 0, 4, 4]], np.float32))],
    ...     images=[np.zeros((4, 4, 3), np.uint8)], candidate_ids=np.array([[2]]),
    ...     candidate_probs=np.array([[0.9]], np.float32), candidate_texts=[[" cat"]],
    ...     words=np.array([[0, 1], [1, 2]]), metadata={"model_id": "demo/tiny"})
    >>> ex
    Explanation(model='demo/tiny', tokens=2, explained=1, methods=['tam'], grids=['image 1' image 2x2])
    >>> ex.map(1)[0]
    array([[0., 1.],
           [0., 0.]], dtype=float32)
    >>> ex.overlay(ex.tokens[1]).shape, ex.answer
    ((4, 4, 3), ' cat')
    """

    tokens: list[Token]
    explained: np.ndarray
    maps: dict[str, np.ndarray]
    text_relevance: np.ndarray
    grids: list[VisualGrid]
    images: list[np.ndarray]
    candidate_ids: np.ndarray
    candidate_probs: np.ndarray
    candidate_texts: list[list[str]]
    words: np.ndarray
    metadata: dict = field(default_factory=dict)

    # -- validation --------------------------------------------------------------------------
    def __post_init__(self) -> None:
        """Normalise containers to arrays (keeping dtypes) and check that every shape agrees."""
        self.tokens = list(self.tokens)
        n_tok = len(self.tokens)
        for i, t in enumerate(self.tokens):
            if not isinstance(t, Token):
                raise TypeError(f"tokens[{i}] must be a Token, got {type(t).__name__}")
            if not isinstance(t.text, str):
                raise TypeError(f"tokens[{i}].text must be str, got {type(t.text).__name__}")
            if t.role not in ROLES:
                raise ValueError(f"tokens[{i}] ({t.text!r}) has role {t.role!r}; roles are {ROLES}")
            if t.raw_bytes is not None and not (isinstance(t.raw_bytes, bytes) and t.raw_bytes):
                raise TypeError(f"tokens[{i}].raw_bytes must be None or non-empty bytes, got {t.raw_bytes!r}")

        self.explained = np.asarray(self.explained)
        if self.explained.size == 0:
            self.explained = self.explained.astype(np.int64).reshape(0)
        if self.explained.ndim != 1 or self.explained.dtype.kind not in "iu":
            raise ValueError(
                f"explained must be a 1-D integer array, got {self.explained.dtype} of shape {self.explained.shape}"
            )
        bad = self.explained[(self.explained < 0) | (self.explained >= n_tok)]
        if bad.size:
            raise ValueError(f"explained indices {bad.tolist()} are out of range for {n_tok} tokens")
        if np.unique(self.explained).size != self.explained.size:
            raise ValueError("explained indices must be unique")
        n_exp = self.explained.size

        self.images = [np.asarray(im) for im in self.images]
        for i, im in enumerate(self.images):
            if im.ndim != 3 or im.shape[2] != 3 or im.dtype != np.uint8:
                raise ValueError(f"images[{i}] must be RGB uint8 [H, W, 3], got {im.dtype} of shape {im.shape}")

        self.grids = list(self.grids)
        n_vis = 0
        for g_i, g in enumerate(self.grids):
            g.grid = tuple(int(x) for x in g.grid)
            g.frames = [int(f) for f in g.frames]
            g.boxes = np.asarray(g.boxes)
            name = f"grids[{g_i}] ({g.label!r})"
            if len(g.grid) not in (2, 3) or min(g.grid) < 1:
                raise ValueError(f"{name}: grid must be (h, w) or (t, h, w) of positive sizes, got {g.grid}")
            t = g.grid[0] if len(g.grid) == 3 else 1
            if len(g.frames) != t:
                raise ValueError(f"{name}: grid {g.grid} has {t} frame(s) but frames lists {len(g.frames)}")
            if g.boxes.shape != (t, 4) or g.boxes.dtype.kind not in "iuf":
                raise ValueError(
                    f"{name}: boxes must be a numeric [{t}, 4] array for grid {g.grid}, "
                    f"got {g.boxes.dtype} of shape {g.boxes.shape}"
                )
            for f, (pic, box) in enumerate(zip(g.frames, g.boxes)):
                if not 0 <= pic < len(self.images):
                    raise ValueError(f"{name}: frame {f} points to image {pic}, but there are {len(self.images)}")
                h, w = self.images[pic].shape[:2]
                x0, y0, x1, y1 = (float(v) for v in box)
                if not (-1 <= x0 < x1 <= w + 1 and -1 <= y0 < y1 <= h + 1):
                    raise ValueError(
                        f"{name}: box {box.tolist()} of frame {f} does not fit image {pic} "
                        f"of size {w}x{h} (boxes are (x0, y0, x1, y1) in stored pixels)"
                    )
            n_vis += g.size
        for g_i, g in enumerate(self.grids):
            if not 0 <= int(g.offset) <= n_vis - g.size:
                raise ValueError(
                    f"grids[{g_i}] ({g.label!r}): tokens {g.offset}..{g.offset + g.size} do not fit "
                    f"the {n_vis} visual tokens of all grids"
                )

        self.maps = dict(self.maps)
        for name, m in self.maps.items():
            if not isinstance(name, str):
                raise TypeError(f"method names must be str, got {name!r}")
            m = self.maps[name] = np.asarray(m)
            if m.shape != (n_exp, n_vis) or m.dtype.kind != "f":
                raise ValueError(
                    f"maps[{name!r}] must be float [n_explained, n_visual] = [{n_exp}, {n_vis}] "
                    f"(n_visual = sum of grid sizes), got {m.dtype} of shape {m.shape}"
                )
        self.text_relevance = np.asarray(self.text_relevance)
        if self.text_relevance.shape != (n_exp, n_tok) or self.text_relevance.dtype.kind != "f":
            raise ValueError(
                f"text_relevance must be float [n_explained, n_tokens] = [{n_exp}, {n_tok}], "
                f"got {self.text_relevance.dtype} of shape {self.text_relevance.shape}"
            )

        self.candidate_ids = np.asarray(self.candidate_ids)
        self.candidate_probs = np.asarray(self.candidate_probs)
        ids, probs = self.candidate_ids, self.candidate_probs
        if ids.ndim != 2 or ids.shape[0] != n_exp or (ids.dtype.kind not in "iu" and ids.size):
            raise ValueError(
                f"candidate_ids must be integer [n_explained, k] with n_explained = {n_exp}, "
                f"got {ids.dtype} of shape {ids.shape}"
            )
        if probs.shape != ids.shape or (probs.dtype.kind != "f" and probs.size):
            raise ValueError(
                f"candidate_probs must be float with the shape of candidate_ids {ids.shape}, "
                f"got {probs.dtype} of shape {probs.shape}"
            )
        self.candidate_texts = [list(row) for row in self.candidate_texts]
        if not all(isinstance(s, str) for row in self.candidate_texts for s in row):
            raise TypeError("candidate_texts must hold str")
        lens = [len(row) for row in self.candidate_texts]
        if len(lens) != n_exp or any(n != ids.shape[1] for n in lens):
            raise ValueError(
                f"candidate_texts must be {n_exp} lists of {ids.shape[1]} strings, "
                f"got {len(lens)} lists of lengths {sorted(set(lens))}"
            )

        self.words = np.asarray(self.words)
        if self.words.size == 0:
            self.words = self.words.astype(np.int64).reshape(0, 2)
        if self.words.ndim != 2 or self.words.shape[1] != 2 or self.words.dtype.kind not in "iu":
            raise ValueError(
                f"words must be an integer [n_words, 2] array, got {self.words.dtype} of shape {self.words.shape}"
            )
        s, e = self.words[:, 0], self.words[:, 1]
        if ((s < 0) | (e <= s) | (e > n_tok)).any() or (s[1:] < e[:-1]).any():
            raise ValueError(
                f"words must be sorted, non-overlapping, non-empty [start, end) ranges within the {n_tok} tokens"
            )
        if not isinstance(self.metadata, dict):
            raise TypeError(f"metadata must be a dict, got {type(self.metadata).__name__}")

    # -- lookup ------------------------------------------------------------------------------
    @property
    def methods(self) -> list[str]:
        """The names of the stored map kinds, e.g. ``["tam", "eci_only", "filter_only", "cam"]``."""
        return list(self.maps)

    @property
    def explained_tokens(self) -> list[Token]:
        """The tokens that have maps, in the order of the rows of ``maps``."""
        return [self.tokens[int(i)] for i in self.explained]

    @property
    def answer(self) -> str:
        """The model's answer: the answer tokens joined (turns separated by a blank line)."""
        turns: dict[int, list[str]] = {}
        for t in self.tokens:
            if t.role == "answer":
                turns.setdefault(t.turn, []).append(t.text)
        return "\n\n".join("".join(parts) for parts in turns.values())

    def token_index(self, token: int | Token) -> int:
        """Index in ``tokens`` of ``token``: an index (negative counts from the end) or a :class:`Token`."""
        if isinstance(token, Token):
            try:
                return self.tokens.index(token)
            except ValueError:
                raise ValueError(f"{token} is not a token of this explanation") from None
        if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)):
            raise TypeError(f"a token is an int index or a Token, got {type(token).__name__}")
        n = len(self.tokens)
        if not -n <= int(token) < n:
            raise IndexError(f"token index {int(token)} is out of range for {n} tokens")
        return int(token) % n

    def _row(self, token: int | Token) -> int:
        """The row of ``token`` in ``maps``/``text_relevance``; ValueError listing the explained tokens."""
        i = self.token_index(token)
        rows = np.flatnonzero(self.explained == i)
        if rows.size == 0:
            raise ValueError(
                f"token {i} ({self.tokens[i].label!r}) was not explained; explained tokens "
                f"(index text): {self._explained_listing()}"
            )
        return int(rows[0])

    def _method(self, method: str) -> np.ndarray:
        if method not in self.maps:
            raise ValueError(f"unknown method {method!r}; this explanation has maps for {self.methods}")
        return self.maps[method]

    def _grid(self, grid: int | str) -> int:
        """``grid`` (an index, negative from the end, or a label) as an index into ``grids``; errors list them."""
        if isinstance(grid, str):
            hits = [k for k, g in enumerate(self.grids) if g.label == grid]
            if len(hits) != 1:
                many = "several grids are" if hits else "no grid is"
                raise ValueError(f"{many} labelled {grid!r}; grids are {self._grid_labels()}")
            return hits[0]
        if isinstance(grid, (bool, np.bool_)) or not isinstance(grid, (int, np.integer)):
            raise TypeError(f"grid must be an int index or a label, got {type(grid).__name__} {grid!r}")
        if not -len(self.grids) <= grid < len(self.grids):
            raise IndexError(f"grid {grid} is out of range; grids are {self._grid_labels()}")
        return int(grid) % len(self.grids)

    def _frame(self, gi: int, frame: int) -> int:
        """``frame`` of ``grids[gi]`` as a non-negative index; errors say how many frames there are."""
        g = self.grids[gi]
        t = len(g.frames)
        if isinstance(frame, (bool, np.bool_)) or not isinstance(frame, (int, np.integer)):
            raise TypeError(f"frame must be an int index, got {type(frame).__name__} {frame!r}")
        if not -t <= frame < t:
            raise IndexError(f"frame {frame!r} is out of range for {g.label!r}, which has {t} frame(s)")
        return int(frame) % t

    def map(self, token: int | Token, method: str = "tam") -> list[np.ndarray]:
        """The map of an explained token over each grid: float32 ``[h, w]`` or ``[t, h, w]`` arrays.

        ``token`` is an index into ``tokens`` or a :class:`Token`; values are as stored (no scaling).
        """
        flat = self._method(method)[self._row(token)].astype(np.float32)
        return [flat[g.offset : g.offset + g.size].reshape(g.grid) for g in self.grids]

    def _display(self, token: int | Token, method: str) -> tuple[list[np.ndarray], float, float]:
        """Maps on the display scale ``[0, 1]`` and the ``(lo, span)`` used: as stored when the token's
        values over all grids already lie in ``[0, 1]``, else min-max scaled over all of them."""
        shown, lo, span = display_scale(self._method(method)[self._row(token)][None])
        maps = [shown[0, g.offset : g.offset + g.size].reshape(g.grid) for g in self.grids]
        return maps, float(lo[0]), float(span[0])

    # -- drawing -----------------------------------------------------------------------------
    def overlay(
        self,
        token: int | Token,
        method: str = "tam",
        grid: int | str = 0,
        frame: int = 0,
        cmap: str = "jet",
        alpha: float = 0.5,
    ) -> np.ndarray:
        """The stored picture of ``grids[grid]``'s ``frame`` with the token's map blended into its box.

        ``grid`` is an index (default 0: the first image or video only) or a label such as
        ``"image 2"`` (``ex.grids`` lists them); ``frame`` picks a video's frame (default the first);
        ``alpha`` in ``[0, 1]`` is the map's opacity. Returns RGB uint8 of the picture's size; pixels
        outside the grid's box are unchanged. The map is shown as stored when the token's values over
        all grids lie in ``[0, 1]`` (TAM maps do, which keeps weak tokens faint), otherwise min-max
        scaled over all grids of that token. :meth:`figure` draws several with titles and a legend.
        """
        from .render import check_alpha
        from .render import overlay as blend

        check_alpha(alpha)
        gi = self._grid(grid)
        g = self.grids[gi]
        frame = self._frame(gi, frame)
        shown = self._display(token, method)[0][gi]
        m = shown[frame] if shown.ndim == 3 else shown
        image = self.images[g.frames[frame]]
        h, w = image.shape[:2]
        x0, y0, x1, y1 = (int(round(float(v))) for v in g.boxes[frame])
        x0, x1 = min(max(x0, 0), w), min(max(x1, 0), w)
        y0, y1 = min(max(y0, 0), h), min(max(y1, 0), h)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box {g.boxes[frame].tolist()} of {g.label!r} frame {frame} is empty in a {w}x{h} image")
        return blend(image, m, cmap=cmap, alpha=alpha, box=(x0, y0, x1, y1))

    def figure(
        self,
        tokens: int | Token | list[int | Token] | None = None,
        method: str = "tam",
        grid: int | str | list[int | str] = 0,
        cmap: str = "jet",
        max_tokens: int = 8,
        frame: int | None = None,
        ncols: int = 4,
        turn: int | None = None,
    ):
        """A matplotlib ``Figure`` in the style of the TAM paper's figures, one panel per token.

        Each panel shows the pictures of ``grid`` (an index or label into ``grids``, or a list of them,
        side by side; all frames of a video unless ``frame`` is given) with the token's map blended,
        and under it the whole text (specials hidden) with each word shaded by the token's
        ``text_relevance`` on the map's display scale, the explained token bold and boxed, later tokens
        grey, and its top-k candidates. ``tokens`` defaults to the first ``max_tokens`` explained answer
        tokens, of answer ``turn`` only when given (``Token.turn``: 0 for the first, -1 for the last).
        The title says which map kind, pictures, turns and tokens are shown (turns counted from 1); a
        colour bar gives the map's units, and a warning shows for an untrained model or synthetic data
        (:func:`provenance`). No window is opened (the figure is not registered with pyplot) and
        neither LaTeX nor mathtext is used, so ``$`` shows as is.

            fig = ex.figure(max_tokens=4)
            fig = ex.figure(turn=-1, grid=[0, 1], method="cam")
            fig.savefig("tam.png", dpi=150)
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.font_manager import FontProperties
        from matplotlib.patches import Rectangle

        from .render import colormap

        self._method(method)
        relevance_cmap = colormap(cmap)
        grid_ids = [self._grid(x) for x in (grid if isinstance(grid, (list, tuple)) else [grid])]
        if not grid_ids:
            raise ValueError(f"grid=[] selects no picture; grids are {self._grid_labels()}")
        if isinstance(max_tokens, (bool, np.bool_)) or not isinstance(max_tokens, (int, np.integer)) or max_tokens < 1:
            raise ValueError(f"max_tokens must be an int >= 1, got {max_tokens!r}")
        chosen, which = self._figure_tokens(tokens, turn, int(max_tokens))
        rows = [self._row(i) for i in chosen]
        shown_frames = []
        for gi in grid_ids:
            t = len(self.grids[gi].frames)
            shown_frames.append(list(range(t)) if frame is None else [self._frame(gi, frame)])
        text_kw = dict(usetex=False, parse_math=False)
        fs, small = 8.5, 7.5
        font = FontProperties(size=fs)
        bold = FontProperties(size=fs, weight="bold")
        panel_w, gap, margin, title_h, line_h = 3.2, 0.25, 0.15, 0.32, fs / 72 * 1.55

        fig = Figure(dpi=100)
        canvas = FigureCanvasAgg(fig)
        renderer = canvas.get_renderer()

        def width(s: str, prop: FontProperties) -> float:
            return renderer.get_text_width_height_descent(s, prop, ismath=False)[0] / fig.dpi

        panels, rescaled = [], False
        for idx, row in zip(chosen, rows):
            pic = _tile([self.overlay(idx, method, gi, f, cmap) for gi, fr in zip(grid_ids, shown_frames) for f in fr])
            items, n_lines = self._strip_layout(idx, row, method, panel_w, line_h, width, font, bold)
            kept = [
                f"{t!r} {format_prob(p)}"
                for i, t, p in zip(self.candidate_ids[row], self.candidate_texts[row], self.candidate_probs[row])
                if int(i) >= 0
            ]
            cands = ("top-k: " + "  ".join(kept)) if kept else "top-k: none (not a generated token)"
            cand_lines = _wrap(cands, panel_w, lambda s: width(s, FontProperties(size=small)))
            _, lo, span = self._display(idx, method)
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

        model = self.metadata.get("model_id") or "unknown model"
        pictures = " + ".join(self._picture_text(gi, fr) for gi, fr in zip(grid_ids, shown_frames))
        title = wrapped(f"{method_label(method)} maps on {pictures}  ·  {model}", 11, "bold")
        others = [f"{k} {g.label!r}" for k, g in enumerate(self.grids) if k not in grid_ids]
        if others:
            which += f"; other pictures: grid={', '.join(others)}"
        subtitle = wrapped(which, 8.5)
        warning = provenance(self.metadata)
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
            fig.text(
                0.5, 1 - y / fig_h, s, ha="center", va="top", fontsize=size, fontweight=weight, color=color, **text_kw
            )
            y += size / 72 * 1.4

        top = sup_h
        for r, (img_h, txt_h) in enumerate(layout):
            for c, (idx, pic, items, n_lines, cand_lines, scaled) in enumerate(panels[r * ncols : (r + 1) * ncols]):
                left = (margin + c * (panel_w + gap)) / fig_w
                ax = fig.add_axes((left, 1 - (top + title_h + img_h) / fig_h, panel_w / fig_w, img_h / fig_h))
                ax.imshow(pic)
                ax.set_axis_off()
                tok = self.tokens[idx]
                ax.set_title(
                    f"{_visible(tok.label)}  (token {idx}){scaled}", fontsize=9.5 if not scaled else 8, **text_kw
                )
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
                        if 0.299 * face[0] + 0.587 * face[1] + 0.114 * face[2] < 0.5:
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

    def _grid_labels(self) -> list[str]:
        return [f"{k}: {g.label!r}" for k, g in enumerate(self.grids)]

    def _picture_text(self, gi: int, frames: list[int]) -> str:
        """How a title names the pictures shown of ``grids[gi]``, e.g. ``video 1 (grid 1 of 2), frames 1-4``."""
        g = self.grids[gi]
        where = f"{g.label} (grid={gi} of {len(self.grids)} grids)" if len(self.grids) > 1 else g.label
        t = len(g.frames)
        if t == 1:
            return where
        if len(frames) == 1:
            return f"{where}, frame {frames[0] + 1} of {t}"
        return f"{where}, frames 1-{t} side by side"

    def _figure_tokens(self, tokens, turn, max_tokens: int) -> tuple[list[int], str]:
        """The token indices a figure shows, and the sentence that says which they are."""

        def turns_text(idx: list[int]) -> str:
            ts = sorted({self.tokens[i].turn for i in idx})
            n_turns = len({t.turn for t in self.tokens})
            return f"turn {ts[0] + 1} of {n_turns}" if len(ts) == 1 else f"turns {', '.join(str(t + 1) for t in ts)}"

        if tokens is not None:
            if turn is not None:
                raise ValueError("pass tokens= or turn=, not both (tokens= already says which tokens)")
            many = isinstance(tokens, (list, tuple, np.ndarray))
            chosen = [self.token_index(t) for t in (tokens if many else [tokens])]
            if not chosen:
                raise ValueError(
                    f"tokens=[] selects no token: pass token indices or Tokens; explained tokens "
                    f"(index text): {self._explained_listing()}"
                )
            for i in chosen:
                self._row(i)
            return chosen, f"tokens {_ranges(chosen)} as chosen ({turns_text(chosen)})"
        pool = [int(i) for i in self.explained]
        if not pool:
            raise ValueError("no token to show: this explanation has no explained tokens")
        turns = sorted({self.tokens[i].turn for i in pool})
        scope = ""
        if turn is not None:
            if isinstance(turn, (bool, np.bool_)) or not isinstance(turn, (int, np.integer)):
                raise TypeError(f"turn must be an int (Token.turn; -1 for the last), got {type(turn).__name__}")
            all_turns = sorted({t.turn for t in self.tokens})
            if not -len(all_turns) <= turn < len(all_turns):
                raise IndexError(f"turn {turn} is out of range; this conversation has turns {all_turns}")
            want = all_turns[int(turn)]
            pool = [i for i in pool if self.tokens[i].turn == want]
            if not pool:
                raise ValueError(f"turn {want} has no explained tokens; turns with maps: {turns}")
            scope = " of that turn"
        answer = [i for i in pool if self.tokens[i].role == "answer"]
        kind = "explained answer tokens" if answer else "explained tokens"
        pool = answer or pool
        chosen = pool[:max_tokens]
        first = f"the first {len(chosen)} of {len(pool)}" if len(chosen) < len(pool) else f"all {len(pool)}"
        hint = "; pick others with tokens=, turn=, max_tokens=" if len(chosen) < len(pool) or len(turns) > 1 else ""
        return chosen, f"tokens {_ranges(chosen)}: {first} {kind}{scope} ({turns_text(chosen)}){hint}"

    def _explained_listing(self) -> str:
        shown = ", ".join(f"{int(k)} {self.tokens[int(k)].label!r}" for k in self.explained[:30])
        more = f", ... ({self.explained.size} in all)" if self.explained.size > 30 else ""
        return f"{shown or 'none'}{more}"

    def _strip_layout(self, idx, row, method, panel_w, line_h, width, font, bold):
        """Place the words of the whole text: ``[(x, line, text, style, relevance)]`` and the line count.

        ``style`` is ``"context"`` (before the explained token, shaded by relevance), ``"target"`` or
        ``"later"``; specials are skipped, a role/turn change or a newline starts a new line.
        """
        _, lo, span = self._display(idx, method)
        rel = np.nan_to_num(self.text_relevance[row].astype(np.float32), posinf=0, neginf=0)
        rel = np.where(rel != 0, np.clip((rel - lo) / span if span > 0 else 0 * rel, 0, 1), 0)
        # Tokenizers that keep a word's leading space in its text show spaces themselves.
        spaced = any(t.text[:1].isspace() or t.text.startswith("▁") for t in self.tokens[1:])
        space = width("a a", font) - width("aa", font)
        items, x, line, prev_key = [], 0.0, 0, None
        for s, e in cover_words(self.words, len(self.tokens)):
            toks = [i for i in range(s, e) if self.tokens[i].role != "special"]
            if not toks:
                continue
            key = (self.tokens[toks[0]].role, self.tokens[toks[0]].turn)
            if prev_key is not None and key != prev_key and x > 0:
                x, line = 0.0, line + 1
            prev_key = key
            raw = escape_controls("".join(self.tokens[i].text for i in toks)).replace("▁", " ")
            gap = raw[:1].isspace() or (not spaced and raw.lstrip()[:1].isalnum())
            v = max((float(rel[i]) for i in toks if i < idx), default=0.0)
            runs: list[list] = []  # [text, style] merged over consecutive tokens of one style
            for i in toks:
                style = "context" if i < idx else "target" if i == idx else "later"
                text = escape_controls(self.tokens[i].text).replace("▁", " ").replace("\t", " ").replace("\r", "")
                if style == "target" and self.tokens[i].raw_bytes is not None:
                    text = self.tokens[i].label  # a byte fragment: its bytes, not a lone "�"
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
        return items, line + 1

    def show(self, **view):
        """The interactive :class:`~tam_widgets.widgets.TokenMapView` of this explanation.

        ``view`` takes ``selected``, ``method``, ``colormap``, ``opacity``, ... (see the class).
        """
        from .widgets import TokenMapView

        return TokenMapView(self, **view)

    def to_html(self, path: str | os.PathLike | None = None, **view):
        """Write the explorer as one self-contained, offline HTML file (the HTML text if ``path`` is None).

            exp.to_html("cat.html", method="tam", colormap="viridis")
        """
        from .widgets import to_html

        return to_html(self, path, **view)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict | None:
        """In a notebook, ``exp`` shows the explorer widget; without a bundle or maps, its figure."""
        import io

        if not len(self.explained):
            return None
        try:
            return self.show()._repr_mimebundle_(include=include, exclude=exclude)
        except FileNotFoundError:  # no JavaScript bundle (an unbuilt checkout): the static figure
            buf = io.BytesIO()
            self.figure(max_tokens=4).savefig(buf, format="png", dpi=80)
            return {"image/png": buf.getvalue(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        grids = ", ".join(f"{g.label!r} {g.kind} {'x'.join(map(str, g.grid))}" for g in self.grids)
        return (
            f"Explanation(model={self.metadata.get('model_id')!r}, tokens={len(self.tokens)}, "
            f"explained={self.explained.size}, methods={self.methods}, grids=[{grids}])"
        )

    # -- file format -------------------------------------------------------------------------
    def _payload(self) -> dict[str, np.ndarray]:
        """Every entry of the file, the header included; raises before any writing if unserialisable."""
        self.__post_init__()
        _check_json(self.metadata, "metadata")
        from . import __version__

        header = {
            "format": FORMAT,
            "version": VERSION,
            "writer": f"tam-widgets {__version__}",
            "methods": self.methods,
            "n_images": len(self.images),
            "tokens": [
                {"text": t.text, "id": int(t.id), "role": t.role, "turn": int(t.turn), "position": int(t.position)}
                | ({} if t.raw_bytes is None else {"raw_bytes": t.raw_bytes.hex()})
                for t in self.tokens
            ],
            "grids": [
                {"kind": g.kind, "label": g.label, "offset": int(g.offset), "grid": list(g.grid), "frames": g.frames}
                for g in self.grids
            ],
            "candidate_texts": self.candidate_texts,
            "metadata": self.metadata,
        }
        try:
            blob = json.dumps(header, ensure_ascii=True).encode("ascii")
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot serialise the explanation header to JSON: {e}") from e
        arrays = {
            "header": np.frombuffer(blob, np.uint8),
            "explained": self.explained,
            "text_relevance": self.text_relevance,
            "candidate_ids": self.candidate_ids,
            "candidate_probs": self.candidate_probs,
            "words": self.words,
        }
        arrays.update({f"maps_{j}": m for j, m in enumerate(self.maps.values())})
        arrays.update({f"image_{i}": im for i, im in enumerate(self.images)})
        arrays.update({f"boxes_{k}": g.boxes for k, g in enumerate(self.grids)})
        for name, a in arrays.items():
            if a.dtype.hasobject:
                raise TypeError(f"{name} has dtype object, which the file format cannot hold")
        return arrays

    def save_pngs(
        self, directory: str | os.PathLike, method: str = "tam", cmap: str = "jet", legend: bool = True
    ) -> list[Path]:
        """Write one overlay PNG per explained token and grid (first frame of a video) into ``directory``.

        Files are named ``<row>_<token label>_<grid label>.png`` with unsafe characters replaced.
        With ``legend`` (the default) each picture has a footer naming the token, map kind and picture,
        a 0-1 colour bar with the map's units (:func:`legend_text`, and the range when the token's map
        was min-max scaled) and any :func:`provenance` warning; ``legend=False`` writes bare overlays.
        """
        from PIL import Image

        from .render import with_legend

        self._method(method)
        out_dir = Path(directory)
        out_dir.mkdir(parents=True, exist_ok=True)
        warning = provenance(self.metadata)
        written = []
        for row, idx in enumerate(self.explained):
            tok = self.tokens[int(idx)]
            name = re.sub(r"[^A-Za-z0-9]+", "_", tok.label).strip("_")[:24] or "tok"
            _, lo, span = self._display(int(idx), method)
            units = legend_text(method)
            if (lo, span) != (0.0, 1.0):
                units += f"; this map was min-max scaled from [{lo:.3g}, {lo + span:.3g}]"
            for gi, g in enumerate(self.grids):
                label = re.sub(r"[^A-Za-z0-9]+", "_", g.label).strip("_")
                path = out_dir / f"{row:03d}_{name}_{label}.png"
                picture = self.overlay(int(idx), method=method, grid=gi, cmap=cmap)
                if legend:
                    frame = f", frame 1 of {len(g.frames)}" if len(g.frames) > 1 else ""
                    title = f"{_visible(tok.label)} (token {int(idx)}): {method_label(method)} on {g.label}{frame}"
                    picture = with_legend(picture, cmap, title, units, warning)
                Image.fromarray(picture).save(path)
                written.append(path)
        return written

    def save(self, path: str | os.PathLike) -> Path:
        """Write the explanation to one versioned ``.npz`` file (``.tam`` suggested), atomically.

        The data go to a temporary file beside ``path``, which is fsynced and then renamed over
        ``path``: a failure never leaves a partial file or damages an existing one. Metadata must be
        JSON-serialisable: str keys; None, bool, int, finite float, str, list/tuple (read back as lists)
        and dict values (``TypeError`` naming the key otherwise, raised before anything is written).

            ex.save("street.tam"); Explanation.load("street.tam")
        """
        arrays = self._payload()
        return atomic_write(path, lambda f: np.savez_compressed(f, allow_pickle=False, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Explanation:
        """Read a file written by :meth:`save` (never unpickles anything).

        Raises ``FileNotFoundError`` (naming the path) for a missing file and :class:`RecordError`
        (a ``ValueError`` naming the file and what is wrong) for anything else that is not a
        complete, consistent record: a truncated or foreign file, one from a newer tam-widgets,
        unknown, missing or oversized entries, a header that disagrees with the arrays. Every
        entry's size, dtype and shape are checked against the zip directory, its ``.npy`` header
        and the record's JSON header before anything is decompressed.
        """
        path = Path(os.fspath(path))
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "no tam-widgets explanation file at this path", str(path))
        if path.is_dir():
            raise RecordError(f"{path} is a directory, not a tam-widgets explanation file")
        with open(path, "rb") as f:
            try:
                header, data = _read_entries(f, path)
                return cls._from_payload(header, data, path)
            except RecordError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as e:
                raise RecordError(f"{path} is truncated or corrupt: {e}") from e
            except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError) as e:
                raise RecordError(f"corrupt tam-widgets explanation {path}: {e}") from e

    @classmethod
    def _from_payload(cls, header: dict, data: dict[str, np.ndarray], path: Path) -> Explanation:
        """The record from a header checked by :func:`_entry_specs` and the arrays it asked for."""
        tokens = []
        for t in header["tokens"]:
            raw = t.get("raw_bytes")
            raw = None if raw is None else bytes.fromhex(raw)
            tokens.append(Token(t["text"], t["id"], t["role"], t["turn"], t["position"], raw))
        grids = [
            VisualGrid(g["kind"], g["label"], g["offset"], tuple(g["grid"]), list(g["frames"]), data[f"boxes_{k}"])
            for k, g in enumerate(header["grids"])
        ]
        return cls(
            tokens=tokens,
            explained=data["explained"],
            maps={m: data[f"maps_{j}"] for j, m in enumerate(header["methods"])},
            text_relevance=data["text_relevance"],
            grids=grids,
            images=[data[f"image_{i}"] for i in range(header["n_images"])],
            candidate_ids=data["candidate_ids"],
            candidate_probs=data["candidate_probs"],
            candidate_texts=header["candidate_texts"],
            words=data["words"],
            metadata=header["metadata"],
        )


# -- file format helpers -----------------------------------------------------------------------
#: Largest JSON header read (bytes); tokens, candidate texts and metadata of long videos fit easily.
MAX_HEADER_BYTES = 64 << 20
#: Deepest nesting of lists and dicts in the JSON header (metadata gets one level less).
MAX_HEADER_DEPTH = 64
#: Zip-bomb guard: an entry, and the whole archive, larger than ``BOMB_FLOOR`` bytes may not be more
#: than ``MAX_RATIO`` times its compressed size (deflate tops out near 1032:1; real records are far below).
BOMB_FLOOR = 32 << 20
MAX_RATIO = 100


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d + 1)
            stack.extend((x, d + 1) for x in v)
    return deepest


def _read_header(arr: Any, path: Path) -> dict:
    """The JSON header, after checking that it is ours and not from a newer version."""
    not_ours = f"{path} is not a tam-widgets explanation"
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 1:
        raise RecordError(f"{not_ours} (its 'header' is not a byte array)")

    def no_constants(name: str):
        raise ValueError(f"{name} is not a JSON number")

    try:
        header = json.loads(arr.tobytes().decode("utf-8"), parse_constant=no_constants)
    except RecursionError:
        raise RecordError(f"corrupt tam-widgets explanation {path}: its header nests too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise RecordError(f"{not_ours} (its 'header' is not JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fmt = header.get("format") if isinstance(header, dict) else None
        raise RecordError(f"{not_ours} (format {fmt!r}, expected {FORMAT!r})")
    version = header.get("version")
    if not _is_int(version) or version < 1:
        raise RecordError(f"corrupt tam-widgets explanation {path}: bad format version {version!r}")
    if version > VERSION:
        raise RecordError(
            f"{path} uses format version {version}, newer than the version {VERSION} this "
            f"tam-widgets reads: upgrade tam-widgets (pip install -U tam-widgets)"
        )
    if _depth(header) > MAX_HEADER_DEPTH:
        raise RecordError(
            f"corrupt tam-widgets explanation {path}: its header nests deeper than {MAX_HEADER_DEPTH} levels"
        )
    return header


#: An entry's expected shape: each dimension fixed (int), free (None) or at most ``("<=", n)``.
_Shape = tuple[Any, ...]


def _entry_specs(header: dict) -> dict[str, tuple[_Shape, str]]:
    """Check the header's structure and give each array entry's expected ``(shape, dtype kinds)``.

    Raises ``ValueError`` naming the first field that is missing or of the wrong type.
    """

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ValueError(f"header field {what}")

    for key in ("methods", "n_images", "tokens", "grids", "candidate_texts", "metadata"):
        need(key in header, f"{key!r} is missing")
    methods, tokens, grids, texts = header["methods"], header["tokens"], header["grids"], header["candidate_texts"]
    need(isinstance(methods, list) and all(isinstance(m, str) for m in methods), "'methods' must be a list of str")
    need(len(set(methods)) == len(methods), f"'methods' lists a name twice: {methods!r}")
    need(_is_int(header["n_images"]) and header["n_images"] >= 0, "'n_images' must be an int >= 0")
    need(isinstance(header["metadata"], dict), "'metadata' must be an object")
    need(isinstance(tokens, list), "'tokens' must be a list")
    for i, t in enumerate(tokens):
        need(isinstance(t, dict), f"tokens[{i}] must be an object")
        for key, kind in (("text", str), ("id", int), ("role", str), ("turn", int), ("position", int)):
            ok = key in t and (_is_int(t[key]) if kind is int else isinstance(t[key], kind))
            need(ok, f"tokens[{i}].{key} must be {'an int' if kind is int else 'a str'}, got {t.get(key)!r}")
        raw = t.get("raw_bytes")
        if raw is not None:
            try:
                ok = isinstance(raw, str) and len(bytes.fromhex(raw)) > 0
            except ValueError:
                ok = False
            need(ok, f"tokens[{i}].raw_bytes must be a hex string of the token's bytes, got {raw!r}")
    need(isinstance(grids, list), "'grids' must be a list")
    n_vis, frames_of = 0, []
    for k, g in enumerate(grids):
        need(isinstance(g, dict), f"grids[{k}] must be an object")
        for key in ("kind", "label"):
            need(isinstance(g.get(key), str), f"grids[{k}].{key} must be a str, got {g.get(key)!r}")
        need(_is_int(g.get("offset")) and g["offset"] >= 0, f"grids[{k}].offset must be an int >= 0")
        shape, frames = g.get("grid"), g.get("frames")
        need(
            isinstance(shape, list) and len(shape) in (2, 3) and all(_is_int(x) and x >= 1 for x in shape),
            f"grids[{k}].grid must be 2 or 3 positive ints, got {shape!r}",
        )
        need(
            isinstance(frames, list) and all(_is_int(x) for x in frames),
            f"grids[{k}].frames must be a list of ints, got {frames!r}",
        )
        n_vis += math.prod(shape)
        frames_of.append(len(frames))
    need(isinstance(texts, list) and all(isinstance(r, list) for r in texts), "'candidate_texts' must be lists")
    need(all(isinstance(s, str) for r in texts for s in r), "'candidate_texts' must hold str")
    n_exp, n_tok = len(texts), len(tokens)
    k = len(texts[0]) if texts else None
    specs: dict[str, tuple[_Shape, str]] = {
        "explained": ((n_exp,), "iu"),
        "text_relevance": ((n_exp, n_tok), "f"),
        "candidate_ids": ((n_exp, k), "iu"),
        "candidate_probs": ((n_exp, k), "f"),
        "words": ((("<=", n_tok), 2), "iu"),
    }
    specs.update({f"maps_{j}": ((n_exp, n_vis), "f") for j in range(len(methods))})
    specs.update({f"image_{i}": ((None, None, 3), "u") for i in range(header["n_images"])})
    specs.update({f"boxes_{g}": ((t, 4), "iuf") for g, t in enumerate(frames_of)})
    return specs


def _read_entries(f: BinaryIO, path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The checked JSON header and every array the header calls for, from the open file ``f``."""
    if f.read(4) != b"PK\x03\x04":
        raise RecordError(f"{path} is truncated or not a tam-widgets explanation (not an .npz archive)")
    f.seek(0)
    try:
        z = zipfile.ZipFile(f)
    except zipfile.BadZipFile:
        raise RecordError(
            f"{path} is truncated or not a tam-widgets explanation (not a complete .npz archive)"
        ) from None
    with z:
        infos = z.infolist()
        twice = sorted(n for n, k in Counter(i.filename for i in infos).items() if k > 1)
        if twice:
            raise RecordError(f"corrupt tam-widgets explanation {path}: the archive holds {twice} twice")
        total, size = sum(i.file_size for i in infos), os.fstat(f.fileno()).st_size
        if total > BOMB_FLOOR and total > MAX_RATIO * size:
            raise RecordError(
                f"corrupt tam-widgets explanation {path}: its entries would expand {size} bytes to {total} "
                f"(more than {MAX_RATIO}:1, a zip bomb); nothing was read"
            )
        by_name = {i.filename: i for i in infos}
        if "header.npy" not in by_name:
            raise RecordError(f"{path} is not a tam-widgets explanation (an .npz without its header)")
        raw = _read_array(z, by_name["header.npy"], ((("<=", MAX_HEADER_BYTES),), "u"), path)
        header = _read_header(raw, path)
        try:
            specs = _entry_specs(header)
        except ValueError as e:
            raise RecordError(f"corrupt tam-widgets explanation {path}: {e}") from None
        expected = {f"{k}.npy" for k in specs} | {"header.npy"}
        unknown, missing = sorted(set(by_name) - expected), sorted(expected - set(by_name))
        if unknown or missing:
            parts = ([f"unknown entries {unknown}"] if unknown else []) + (
                [f"missing entries {missing}"] if missing else []
            )
            raise RecordError(
                f"corrupt tam-widgets explanation {path}: {' and '.join(parts)} "
                f"(its header lists {len(header['methods'])} map kinds, {header['n_images']} pictures "
                f"and {len(header['grids'])} grids)"
            )
        data = {k: _read_array(z, by_name[f"{k}.npy"], spec, path) for k, spec in specs.items()}
    return header, data


def _read_array(z: zipfile.ZipFile, info: zipfile.ZipInfo, spec: tuple[_Shape, str], path: Path) -> np.ndarray:
    """One ``.npy`` entry, read only after its size, dtype and shape passed the checks (``RecordError``)."""
    name = info.filename

    def bad(what: str) -> RecordError:
        if name == "header.npy":  # a foreign .npz that happens to have a "header"
            return RecordError(f"{path} is not a tam-widgets explanation (its 'header' entry {what})")
        return RecordError(f"corrupt tam-widgets explanation {path}: entry {name!r} {what}")

    if info.flag_bits & 0x1:
        raise bad("is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise bad(f"uses zip compression method {info.compress_type}; .tam files use deflate or none")
    if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise bad(
            f"would expand {info.compress_size} compressed bytes to {info.file_size} "
            f"(more than {MAX_RATIO}:1, a zip bomb); it is not read"
        )
    shape_spec, kinds = spec
    with z.open(info) as e:
        try:
            version = np.lib.format.read_magic(e)
            if version not in ((1, 0), (2, 0)):
                raise bad(f"is in .npy format version {version}, which tam-widgets does not read")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(e)
        except (ValueError, SyntaxError, TypeError) as err:
            if isinstance(err, RecordError):
                raise
            raise bad(f"is not a valid .npy array ({err})") from None
        if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None:
            raise bad(f"holds {dtype} values (objects or records), which tam-widgets never reads")
        size = math.prod(shape)
        if dtype.kind not in kinds and not (size == 0 and dtype.kind in "biuf"):
            names = {"i": "int", "u": "uint", "f": "float"}
            raise bad(f"has dtype {dtype}, expected {' or '.join(names[c] for c in kinds)}")
        if name == "header.npy" or name.startswith("image_"):
            if dtype != np.uint8:
                raise bad(f"has dtype {dtype}, expected uint8")
        fits = len(shape) == len(shape_spec) and all(
            want is None or (isinstance(want, tuple) and n <= want[1]) or n == want
            for n, want in zip(shape, shape_spec)
        )
        if not fits:
            want = tuple("any" if w is None else f"<= {w[1]}" if isinstance(w, tuple) else w for w in shape_spec)
            raise bad(f"has shape {shape}, but the header calls for {want}")
        nbytes = size * dtype.itemsize
        if e.tell() + nbytes != info.file_size:
            raise bad(f"declares {e.tell() + nbytes} bytes but the archive lists {info.file_size}")
        buf = bytearray(nbytes)
        view, got = memoryview(buf), 0
        while got < nbytes:
            n = e.readinto(view[got : got + (16 << 20)])
            if not n:
                raise bad(f"is truncated ({got} of {nbytes} bytes)")
            got += n
        if e.read(1):  # also completes the CRC check
            raise bad("holds more bytes than its header declares")
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _check_json(value: Any, where: str, depth: int = 0) -> None:
    """Raise ``TypeError`` naming the first value under ``where`` that JSON cannot round-trip."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is {value!r}, which JSON cannot store; use None or a string")
        return
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_HEADER_DEPTH - 2:
        raise TypeError(f"{where} nests lists/dicts deeper than {MAX_HEADER_DEPTH - 2} levels, which files cannot hold")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has the key {k!r} of type {type(k).__name__}; JSON keys must be str")
            _check_json(v, f"{where}[{k!r}]", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]", depth + 1)
        return
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which is not "
        f"JSON-serialisable; convert it (e.g. to str, int, float, list or dict) before saving"
    )


#: Every map kind a record may store: its name in views and what its colour scale means (the legend).
METHOD_INFO: dict[str, tuple[str, str]] = {
    "tam": (
        "TAM",
        "TAM activation: 0 = none, 1 = this token's strongest evidence over image and text together "
        "(a faint map: stronger evidence was in the text)",
    ),
    "cam": (
        "CAM (baseline)",
        "CAM: ReLU class score, scaled per token so that its peak in the pictures is 1 (not comparable with TAM)",
    ),
    "eci_only": (
        "ECI only (no filter)",
        "TAM without the filter: 0 = none, 1 = this token's strongest evidence over image and text together",
    ),
    "filter_only": (
        "filter only (no ECI)",
        "CAM scaled together with the text (1 = strongest over image and text), then rank-Gaussian filtered; "
        "earlier words' interference not removed",
    ),
}


def method_label(method: str) -> str:
    """The name views give a map kind, e.g. ``"CAM (baseline)"``; unknown kinds keep their name."""
    return METHOD_INFO.get(method, (method, ""))[0]


def legend_text(method: str) -> str:
    """What the colour scale of ``method``'s maps means, for legends and tooltips."""
    return METHOD_INFO.get(method, (method, f"{method} activation (0-1)"))[1]


def provenance(metadata: dict) -> str | None:
    """A warning every view and figure of the record shows, or ``None``: untrained models and synthetic data.

    >>> provenance({"untrained": True})
    'untrained model: the maps carry no meaning, this shows the pipeline running'
    """
    if metadata.get("untrained"):
        return "untrained model: the maps carry no meaning, this shows the pipeline running"
    if metadata.get("synthetic"):
        return "synthetic scene: no model involved, the maps come from built-in features"
    return None


def format_prob(p: float) -> str:
    """A probability as views show it: a percentage with 3 significant digits.

    >>> [format_prob(x) for x in (0.4123, 0.05, 0.00123, 1e-9, 1.0)]
    ['41.2%', '5%', '0.123%', '<0.001%', '100%']
    """
    pct = 100.0 * float(p)
    if not math.isfinite(pct):
        return "?"
    if pct < 0.001:
        return "<0.001%" if pct > 0 else "0%"
    return f"{float(f'{pct:.3g}'):g}%"


def display_scale(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of maps ``[n, v]`` on the display scale ``[0, 1]`` (float32), with each row's ``lo`` and ``span``.

    A row whose values all lie in ``[0, 1]`` is shown as stored (``lo = 0, span = 1``: weak TAM maps stay
    faint), any other row is min-max scaled (a constant one shows as 0). NaN and infinities count as 0.
    The figure, the overlays and the widget's uint8 maps all use this one rule.

    >>> shown, lo, span = display_scale(np.array([[0, 0.5, 1], [-2, 0, 2]], np.float16))
    >>> shown.tolist(), lo.tolist(), span.tolist()
    ([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0]], [0.0, -2.0], [1.0, 4.0])
    """
    flat = np.nan_to_num(np.asarray(rows, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if flat.shape[1] == 0:
        n = flat.shape[0]
        return flat, np.zeros(n, np.float32), np.ones(n, np.float32)
    lo, hi = flat.min(axis=1), flat.max(axis=1)
    inside = (lo >= 0) & (hi <= 1)
    lo = np.where(inside, 0.0, lo).astype(np.float32)
    span = np.where(inside, 1.0, hi - lo).astype(np.float32)
    safe = np.where(span > 0, span, 1.0).astype(np.float32)[:, None]
    shown = np.where(span[:, None] > 0, (flat - lo[:, None]) / safe, np.float32(0))
    return shown, lo, span


def cover_words(words: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Word ranges completed with one-token words for any token no word covers."""
    out, at = [], 0
    for s, e in words.tolist():
        out.extend((i, i + 1) for i in range(at, s))
        out.append((s, e))
        at = e
    out.extend((i, i + 1) for i in range(at, n))
    return out


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
