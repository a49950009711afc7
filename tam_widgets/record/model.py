"""The ``Explanation`` record: tokens, maps, geometry, images; validation, lookup and overlays.

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
  visual axis, its token grid, which pixel box of which stored image each frame covers, and the
  turn that added it;
* ``images``: the (downscaled) RGB images and video frames, uint8;
* ``candidates``: the top-k next-token candidates and probabilities of each explained token;
* ``words``: ``[n_words, 2]`` half-open token index ranges grouping tokens into words;
* ``metadata``: model id and revision, dtype, generation settings, package version, ...

In a notebook ``exp`` (or ``exp.show()``) is the interactive explorer that :mod:`tam_widgets.widgets`
registers (:func:`~tam_widgets.record.display.register_viewer`); ``exp.to_html(path)`` writes it as
one offline page; ``exp.figure()`` draws the paper's static figure (:mod:`.figure`); ``exp.save`` and
``Explanation.load`` read and write the ``.tam`` file (:mod:`.tamfile`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .display import display_scale, escape_controls, viewer

ROLES = ("prompt", "answer", "special")
"""The roles a :class:`Token` can have (``special``: chat-format tokens such as ``<|im_start|>``).

>>> Token("cat", 5, "answer", 0, 9).role in ROLES
True
"""


class RecordError(ValueError):
    """A ``.tam`` file (or record data) that cannot be read: its message names the file and what is wrong.

    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.tam"
    >>> _ = bad.write_bytes(b"not a record")
    >>> try:
    ...     Explanation.load(bad)
    ... except RecordError as e:
    ...     print("truncated or corrupt" in str(e) or "not a" in str(e))
    True
    """


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
        turn: the turn of the conversation that added the picture or video (0 for the first
            question; ``Token.turn`` counts the same way). Tokens of earlier turns could not see it:
            their maps are 0 over it.

    >>> g = VisualGrid("image", "image 1", 0, (2, 3), [0], np.array([[0, 0, 60, 40]], np.float32))
    >>> g.size  # visual tokens: 2 rows of 3
    6
    """

    kind: str
    label: str
    offset: int
    grid: tuple[int, ...]
    frames: list[int]
    boxes: np.ndarray
    turn: int = 0

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
            if isinstance(g.turn, (bool, np.bool_)) or not isinstance(g.turn, (int, np.integer)) or g.turn < 0:
                raise ValueError(f"{name}: turn must be an int >= 0 (the turn that added it), got {g.turn!r}")
            g.turn = int(g.turn)
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
        from ..render import check_alpha
        from ..render import overlay as blend

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

    def _grid_labels(self) -> list[str]:
        return [f"{k}: {g.label!r}" for k, g in enumerate(self.grids)]

    def _explained_listing(self) -> str:
        shown = ", ".join(f"{int(k)} {self.tokens[int(k)].label!r}" for k in self.explained[:30])
        more = f", ... ({self.explained.size} in all)" if self.explained.size > 30 else ""
        return f"{shown or 'none'}{more}"

    # -- drawing and showing (figure.py, and the viewer that tam_widgets.widgets registers) ------
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
        context: int | None = None,
    ):
        """A matplotlib ``Figure`` in the style of the TAM paper's figures, one panel per token.

        Each panel shows the pictures of ``grid`` (an index or label into ``grids``, or a list of them,
        side by side; all frames of a video unless ``frame`` is given) with the token's map blended,
        and under it the whole text (specials hidden) with each word shaded by the token's
        ``text_relevance`` on the map's display scale, the explained token bold and boxed, later tokens
        grey, and its top-k candidates; with ``context`` only the words within that many tokens of the
        panel's token (``…`` marks the cut). ``tokens`` defaults to the first ``max_tokens`` explained answer
        tokens, of answer ``turn`` only when given (``Token.turn``: 0 for the first, -1 for the last).
        The title says which map kind, pictures, turns and tokens are shown (turns counted from 1); a
        colour bar gives the map's units, and a warning shows for an untrained model or synthetic data
        (:func:`provenance`). No window is opened (the figure is not registered with pyplot) and
        neither LaTeX nor mathtext is used, so ``$`` shows as is.

            fig = ex.figure(max_tokens=4)
            fig = ex.figure(turn=-1, grid=[0, 1], method="cam")
            fig.savefig("tam.png", dpi=150)
        """
        from .figure import figure

        return figure(self, tokens, method, grid, cmap, max_tokens, frame, ncols, turn, context)

    def save_pngs(
        self, directory: str | os.PathLike, method: str = "tam", cmap: str = "jet", legend: bool = True
    ) -> list[Path]:
        """Write one overlay PNG per explained token and grid (first frame of a video) into ``directory``.

        Files are named ``<row>_<token label>_<grid label>.png`` with unsafe characters replaced.
        With ``legend`` (the default) each picture has a footer naming the token, map kind and picture,
        a 0-1 colour bar with the map's units (:func:`legend_text`, and the range when the token's map
        was min-max scaled) and any :func:`provenance` warning; ``legend=False`` writes bare overlays.
        """
        from .figure import save_pngs

        return save_pngs(self, directory, method, cmap, legend)

    def show(self, **view):
        """The interactive explorer of this explanation (:class:`~tam_widgets.widgets.TokenMapView`).

        ``view`` takes ``selected``, ``method``, ``colormap``, ``opacity``, ... (see the class). The
        viewer is the one :func:`~tam_widgets.record.display.register_viewer` registered
        (``import tam_widgets`` does); ``RuntimeError`` when none is.
        """
        return viewer("show")(self, **view)

    def to_html(self, path: str | os.PathLike | None = None, **view):
        """Write the explorer as one self-contained, offline HTML file (the HTML text if ``path`` is None).

            exp.to_html("cat.html", method="tam", colormap="viridis")
        """
        return viewer("to_html")(self, path, **view)

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

    # -- the .tam file (tamfile.py) ------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the explanation to one versioned ``.npz`` file (``.tam`` suggested), atomically.

        The data go to a temporary file beside ``path``, which is fsynced and then renamed over
        ``path``: a failure never leaves a partial file or damages an existing one. Metadata must be
        JSON-serialisable: str keys; None, bool, int, finite float, str, list/tuple (read back as lists)
        and dict values (``TypeError`` naming the key otherwise, raised before anything is written).

            ex.save("street.tam"); Explanation.load("street.tam")
        """
        from .tamfile import save

        return save(self, path)

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
        from .tamfile import load

        return load(cls, path)
