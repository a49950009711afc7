"""A synthetic image, caption and "model" with known answers, for demos, tests and benchmarks.

The scene has a red circle, a blue square and a green triangle on grass. Each word's LM-head row
shares a common direction, and every object's visual tokens carry it too, so a plain CAM of
"circle" also lights up the square: the interference TAM's ECI is built to remove.

>>> ex = synthetic_example(grid=(12, 16), n_answer=8)
>>> ex.hidden.shape[0] == len(ex.input_ids) - 1, ex.grid
(True, (12, 16))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

# Qwen2-VL-like special ids (as in the golden fixtures).
IM_START, IM_END, NEWLINE, VISION_START, VISION_END, IMAGE_PAD, ASSISTANT, USER, SYSTEM = range(1, 10)
SPECIALS = {
    IM_START: "<|im_start|>",
    IM_END: "<|im_end|>",
    NEWLINE: "\n",
    VISION_START: "<|vision_start|>",
    VISION_END: "<|vision_end|>",
    IMAGE_PAD: "<|image_pad|>",
    ASSISTANT: "assistant",
    USER: "user",
    SYSTEM: "system",
}
WORDS = [
    "describe",
    "the",
    "image",
    ".",
    "a",
    "red",
    "circle",
    "and",
    "blue",
    "square",
    "green",
    "triangle",
    "on",
    "grass",
    "in",
    "picture",
    "shows",
]
#: Question words (ids 33-39, which the random text of the system turn never draws), for
#: ``synthetic_example(prompt=[...])``.
QUESTION_WORDS = ["what", "colour", "is", "?", "shape", "where", "which"]
PROMPT = ["describe", "the", "image", "."]
ANSWER = [
    "the",
    "picture",
    "shows",
    "a",
    "red",
    "circle",
    "and",
    "a",
    "blue",
    "square",
    "and",
    "a",
    "green",
    "triangle",
    "on",
    "the",
    "grass",
    ".",
]
OBJECTS = {"circle": ("red", (220, 40, 40)), "square": ("blue", (40, 70, 220)), "triangle": ("green", (30, 160, 60))}
PIXELS_PER_TOKEN = 28


@dataclass
class SyntheticExample:
    """Everything TAM needs for one sample, plus the truth: which tokens cover which object.

    >>> ex = synthetic_example(grid=(6, 8))
    >>> sorted(ex.object_masks), ex.object_masks["circle"].shape
    (['circle', 'grass', 'square', 'triangle'], (6, 8))
    """

    image: np.ndarray  # uint8 [H, W, 3] or [t, H, W, 3]
    input_ids: np.ndarray
    hidden: torch.Tensor  # [N - 1, d] last-layer hidden states
    lm_head_weight: torch.Tensor  # [V, d]
    visual_positions: np.ndarray
    prompt_positions: np.ndarray
    answer_start: int
    grid: tuple[int, ...]
    vocab: list[str]
    object_masks: dict[str, np.ndarray]  # word -> bool [*grid]

    @property
    def logits(self) -> torch.Tensor:
        """Full ``[N - 1, V]`` logits, for the "bring your own logits" entry point."""
        return self.hidden @ self.lm_head_weight.T

    def token_text(self, position: int) -> str:
        return self.vocab[int(self.input_ids[position])]

    @property
    def layout(self) -> dict:
        """The layout keywords of :func:`tam_from_logits` / :func:`tam_from_hidden`."""
        return dict(
            visual_positions=self.visual_positions,
            prompt_positions=self.prompt_positions,
            answer_start=self.answer_start,
            grid=self.grid,
        )

    def tam(self, **options):
        """:func:`tam_from_hidden` on this example; ``options`` as there (``compat``, ``eci``, ...)."""
        from .tam import tam_from_hidden

        return tam_from_hidden(self.hidden, self.lm_head_weight, self.input_ids, **self.layout, **options)


def _shape_masks(h: int, w: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    cx = (0.25 + shift) * w
    circle = (yy - 0.35 * h) ** 2 + (xx - cx) ** 2 <= (0.2 * min(h, w)) ** 2
    square = (np.abs(yy - 0.4 * h) <= 0.17 * h) & (np.abs(xx - 0.72 * w) <= 0.13 * w)
    ty, tx = (yy - 0.62 * h) / (0.3 * h), (xx - 0.5 * w) / (0.18 * w)
    triangle = (ty >= 0) & (ty <= 1) & (np.abs(tx) <= ty)
    return {"circle": circle, "square": square & ~circle, "triangle": triangle & ~circle & ~square}


def _render(h: int, w: int, shift: float, rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((h, w, 3), np.float64)
    img[...] = (90, 150, 70)
    img[: int(0.3 * h)] = (150, 190, 230)
    for name, mask in _shape_masks(h, w, shift).items():
        img[mask] = OBJECTS[name][1]
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def synthetic_example(
    grid: tuple[int, ...] = (24, 32),
    n_prompt: int = 20,
    n_answer: int = 30,
    vocab_size: int = 1000,
    dim: int = 64,
    seed: int = 0,
    prompt: Sequence[str] | None = None,
    answer: Sequence[str] | None = None,
) -> SyntheticExample:
    """Build a sample with a ``grid`` of visual tokens (``(t, h, w)`` makes a moving video).

    The prompt has ``n_prompt`` text tokens and the answer ``n_answer`` tokens, the last being
    ``<|im_end|>``; longer answers repeat the caption. ``prompt`` and ``answer`` give the words
    instead (from :data:`WORDS` and :data:`QUESTION_WORDS`; ``<|im_end|>`` is appended to the answer).
    Examples made with the same ``seed`` and a given ``prompt`` share the LM head and the scene.

    >>> ex = synthetic_example(grid=(6, 8), prompt=["what", "colour", "is", "the", "triangle", "?"],
    ...                        answer=["green"])
    >>> [ex.token_text(p) for p in range(ex.answer_start, len(ex.input_ids))]
    ['green', '<|im_end|>']

    >>> ex = synthetic_example(grid=(6, 8), n_prompt=5, n_answer=4)
    >>> ex.input_ids.shape, ex.answer_start, ex.image.dtype
    ((78,), 74, dtype('uint8'))
    """
    rng = np.random.default_rng(seed)
    grid = tuple(int(g) for g in grid)
    frames = grid[0] if len(grid) == 3 else 1
    gh, gw = grid[-2:]
    known = WORDS + QUESTION_WORDS
    if vocab_size < 16 + len(known):
        raise ValueError(f"vocab_size must be at least {16 + len(known)}")
    vocab = [SPECIALS.get(i, f"<unused{i}>") for i in range(16)]
    vocab += known + [f"w{i}" for i in range(16 + len(known), vocab_size)]
    wid = {word: 16 + k for k, word in enumerate(known)}
    for word in [*(prompt or ()), *(answer or ())]:
        if word not in wid:
            raise ValueError(f"the synthetic vocabulary has no word {word!r}; it knows {known}")
    if prompt is not None:
        n_prompt = len(prompt)
    if answer is not None:
        n_answer = len(answer) + 1

    def words(seq: list[str], n: int) -> list[int]:
        return [wid[seq[k % len(seq)]] for k in range(n)]

    # Token layout: system turn, user turn with the visual tokens and the prompt, assistant turn.
    n_v = int(np.prod(grid))
    head = [
        IM_START,
        SYSTEM,
        NEWLINE,
        *rng.integers(40, vocab_size, 6).tolist(),
        IM_END,
        NEWLINE,
        IM_START,
        USER,
        NEWLINE,
        VISION_START,
    ]
    visual_start = len(head)
    prompt_ids = (
        words(list(prompt), n_prompt)
        if prompt is not None
        else words(PROMPT, n_prompt)
        if n_prompt <= len(PROMPT)
        else (words(PROMPT, len(PROMPT)) + rng.integers(40, vocab_size, n_prompt - len(PROMPT)).tolist())
    )
    ids = head + [IMAGE_PAD] * n_v + [VISION_END] + prompt_ids + [IM_END, NEWLINE, IM_START, ASSISTANT, NEWLINE]
    answer_start = len(ids)
    ids += words(list(answer) if answer is not None else ANSWER, n_answer - 1) + [IM_END]
    ids = np.asarray(ids, np.int64)

    # LM head: every word row shares a common direction g (the source of interference).
    g = rng.normal(size=dim).astype(np.float32)
    g /= np.linalg.norm(g)
    weight = rng.standard_normal(size=(vocab_size, dim), dtype=np.float32)
    weight /= np.linalg.norm(weight, axis=1, keepdims=True)
    weight[16:] = 0.6 * g + 0.8 * weight[16:]

    def unit(word: str) -> np.ndarray:
        return weight[wid[word]] / np.linalg.norm(weight[wid[word]])

    hidden = rng.normal(0, 0.3, size=(len(ids) - 1, dim))
    masks = {name: np.zeros((frames, gh, gw), bool) for name in OBJECTS}
    masks["grass"] = np.zeros((frames, gh, gw), bool)
    images = []
    for f in range(frames):
        shift = 0.3 * f / max(frames - 1, 1) if frames > 1 else 0.0
        for name, m in _shape_masks(gh, gw, shift).items():
            masks[name][f] = m
        masks["grass"][f] = ~(masks["circle"][f] | masks["square"][f] | masks["triangle"][f])
        masks["grass"][f, : int(0.3 * gh)] = False
        images.append(_render(gh * PIXELS_PER_TOKEN, gw * PIXELS_PER_TOKEN, shift, rng))
    feats = np.zeros((frames, gh, gw, dim))
    for name, (colour, _) in OBJECTS.items():
        m = masks[name]
        feats[m] += 3.0 * unit(name) + 1.5 * unit(colour) + 2.5 * g
    feats[masks["grass"]] += 2.0 * unit("grass") + 1.5 * unit("green")
    hidden[visual_start : visual_start + n_v] += feats.reshape(n_v, dim)
    # Text states predict the next token, and carry some of the earlier words (context leak).
    for p in range(visual_start + n_v, len(ids) - 1):
        hidden[p] += 4.0 * weight[ids[p + 1]] / np.linalg.norm(weight[ids[p + 1]])
        hidden[p] += 1.0 * weight[ids[max(p - 2, 0)]]

    prompt_pos = np.arange(visual_start + n_v + 1, visual_start + n_v + 1 + n_prompt)
    squeeze = (lambda a: a[0]) if len(grid) == 2 else (lambda a: a)
    return SyntheticExample(
        image=squeeze(np.stack(images)),
        input_ids=ids,
        hidden=torch.tensor(hidden, dtype=torch.float32),
        lm_head_weight=torch.from_numpy(weight),
        visual_positions=np.arange(visual_start, visual_start + n_v),
        prompt_positions=prompt_pos,
        answer_start=answer_start,
        grid=grid,
        vocab=vocab,
        object_masks={k: squeeze(v) for k, v in masks.items()},
    )
