"""Hand-built :class:`~tam_widgets.record.Explanation` records for widget tests and benchmarks.

No model is involved: each explained token's map is one bright cell (plus a faint gradient), so a
test knows exactly where the heat must be. ``hot_cell(record, row)`` tells which cell it is.

>>> ex = small_record()
>>> [t.text for t in ex.explained_tokens]
[' A', ' cat', ' <script>alert(1)</script>', ' here']
>>> hot_cell(ex, 1)
(0, 5, 7)
"""

from __future__ import annotations

import numpy as np

from ..record import Explanation, Token, VisualGrid

_PROMPT = ["<|im_start|>", "user", "\n", "Describe", " the", " image", ".", "<|im_end|>", "\n",
           "<|im_start|>", "assistant", "\n"]
_SPECIAL = {"<|im_start|>", "<|im_end|>", "user", "assistant", "\n"}
_ANSWER = [" A", " cat", " <script>alert(1)</script>", " here"]


def picture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A deterministic RGB test picture: soft gradients and a few coloured discs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([x / width * 180 + 40, y / height * 160 + 50, (1 - x / width) * 120 + 60], -1)
    for _ in range(5):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(0.08, 0.2) * min(height, width)
        img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.uniform(30, 230, 3)
    return img.clip(0, 255).astype(np.uint8)


def synthetic_record(
    answer: list[str] | int = _ANSWER,
    grid: tuple[int, int] = (6, 8),
    image_size: tuple[int, int] = (96, 128),
    n_images: int = 1,
    frames: int = 0,
    methods: tuple[str, ...] = ("tam", "cam", "eci_only", "filter_only"),
    seed: int = 0,
) -> Explanation:
    """A Qwen-style chat record: ``n_images`` pictures (or one video of ``frames`` frames when
    ``frames > 0``), each with a ``grid`` of visual tokens, and an explained ``answer`` (a list of
    token texts, or a count of generated words).

    Row ``r``'s map is ~0.05-0.25 everywhere with one cell at 1.0 (:func:`hot_cell`); ``"cam"`` is
    the same pattern on another scale (values in ``[-1, 4]``) so it takes the min-max display path.
    """
    rng = np.random.default_rng(seed)
    words = answer if isinstance(answer, list) else [f" w{k}" for k in range(int(answer))]
    texts = _PROMPT + list(words) + ["<|im_end|>"]
    roles = ["special" if t in _SPECIAL else "prompt" for t in _PROMPT]
    roles += ["answer"] * len(words) + ["special"]
    tokens = [Token(t, 100 + k, r, 0, k) for k, (t, r) in enumerate(zip(texts, roles))]
    explained = np.arange(len(_PROMPT), len(_PROMPT) + len(words))
    h, w = grid
    height, width = image_size
    if frames > 0:
        images = [picture(height, width, seed + f) for f in range(frames)]
        grids = [VisualGrid("video", "video 1", 0, (frames, h, w), list(range(frames)),
                            np.tile(np.array([[0, 0, width, height]], np.float32), (frames, 1)))]
    else:
        images = [picture(height, width, seed + i) for i in range(n_images)]
        grids = [VisualGrid("image", f"image {i + 1}", i * h * w, (h, w), [i],
                            np.array([[0, 0, width, height]], np.float32)) for i in range(n_images)]
    n_vis = sum(g.size for g in grids)
    n = explained.size
    base = rng.uniform(0.05, 0.25, (n, n_vis)).astype(np.float32)
    hot = (np.arange(n) * 7919 + seed) % n_vis
    base[np.arange(n), hot] = 1.0
    maps = {}
    for m in methods:
        scale = {"cam": (5.0, -1.0), "eci_only": (0.9, 0.0), "filter_only": (0.8, 0.1)}.get(m, (1.0, 0.0))
        maps[m] = (base * scale[0] + scale[1]).astype(np.float16)
    rel = np.zeros((n, len(tokens)), np.float16)
    for r, i in enumerate(explained):
        rel[r, : int(i)] = rng.uniform(0, 1, int(i)).astype(np.float16)
    k = 3
    cand_ids = np.stack([np.arange(k) + 500 + r for r in range(n)])
    cand_probs = np.tile(np.array([[0.7, 0.2, 0.05]], np.float32), (n, 1))
    cand_texts = [[tokens[int(i)].text, " dog", " <b>"] for i in explained]
    return Explanation(
        tokens=tokens, explained=explained, maps=maps, text_relevance=rel, grids=grids, images=images,
        candidate_ids=cand_ids, candidate_probs=cand_probs, candidate_texts=cand_texts,
        words=np.array([[k, k + 1] for k in range(len(tokens))]), metadata={"model_id": "synthetic/record"},
    )


def small_record() -> Explanation:
    """Four explained answer tokens (one of them ``<script>...``) over one 6x8 grid, 96x128 picture."""
    return synthetic_record()


def hot_cell(exp: Explanation, row: int) -> tuple[int, int, int]:
    """``(grid index, cell row, cell column)`` of row ``row``'s brightest visual token."""
    flat = int(np.argmax(exp.maps[exp.methods[0]][row].astype(np.float32)))
    for gi, g in enumerate(exp.grids):
        if g.offset <= flat < g.offset + g.size:
            local = flat - g.offset
            w = g.grid[-1]
            return gi, (local // w) % g.grid[-2], local % w
    raise ValueError("no grid holds the hot cell")
