"""The hand-made record the tests of tam_widgets.record share: 12 tokens, an image grid and a video grid."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tam_widgets.record import Explanation, Token, VisualGrid

IMAGE_BOX = [10.4, 20.6, 70.4, 50.6]  # rounds to (10, 21, 70, 51): 60x30 pixels for a 3x4 grid


def _pictures() -> list[np.ndarray]:
    """Three small RGB pictures: photos from scikit-image when installed, else synthetic ones."""
    try:
        from skimage import data

        photos = [data.astronaut(), data.chelsea(), data.coffee()]
    except ImportError:
        rng = np.random.default_rng(1)
        photos = [rng.integers(0, 256, (120, 180, 3), dtype=np.uint8) for _ in range(3)]
    sizes = [(96, 64), (96, 64), (96, 64)]  # (width, height)
    return [cv2.resize(p, s, interpolation=cv2.INTER_AREA) for p, s in zip(photos, sizes)]


TEXTS = [
    ("<|im_start|>", "special"),
    ("Describe", "prompt"),
    (" the", "prompt"),
    (" scene", "prompt"),
    ("<|im_end|>", "special"),
    ("A", "answer"),
    (" cat", "answer"),
    (" costs", "answer"),
    (" $", "answer"),
    ("5", "answer"),
    (" <script>", "answer"),
    ("<|im_end|>", "special"),
]
EXPLAINED = [5, 6, 7, 8, 10]


def make_explanation(**overrides) -> Explanation:
    """12 tokens, 5 explained; an image grid (3, 4) in a crop and a video grid (2, 2, 3) over 2 frames."""
    rng = np.random.default_rng(0)
    tokens = [Token(text, 100 + i, role, 0, 3 + i + (24 if i >= 4 else 0)) for i, (text, role) in enumerate(TEXTS)]
    n_exp, n_vis = len(EXPLAINED), 12 + 12
    grids = [
        VisualGrid("image", "image 1", 0, (3, 4), [0], np.array([IMAGE_BOX], np.float32)),
        VisualGrid("video", "video 1", 12, (2, 2, 3), [1, 2], np.array([[0, 0, 96, 64]] * 2, np.float32)),
    ]
    rel = np.zeros((n_exp, len(tokens)), np.float16)
    for r, i in enumerate(EXPLAINED):
        rel[r, 1:i] = rng.random(i - 1)
    fields = dict(
        tokens=tokens,
        explained=np.array(EXPLAINED, np.int64),
        maps={
            "tam": rng.random((n_exp, n_vis)).astype(np.float16),
            "cam": rng.random((n_exp, n_vis)).astype(np.float16),
        },
        text_relevance=rel,
        grids=grids,
        images=_pictures(),
        candidate_ids=rng.integers(0, 1000, (n_exp, 3)).astype(np.int64),
        candidate_probs=np.sort(rng.random((n_exp, 3)).astype(np.float32))[:, ::-1].copy(),
        candidate_texts=[[" cat", " $dog$", "<b>"] for _ in range(n_exp)],
        words=np.array([[i, i + 1] for i in range(8)] + [[8, 10], [10, 11], [11, 12]], np.int64),
        metadata={
            "model_id": "test/tiny-vlm",
            "generation": {"max_new_tokens": 7, "do_sample": False},
            "prompts": ["Describe the scene"],
            "temperature": 0.7,
        },
    )
    fields.update(overrides)
    return Explanation(**fields)


@pytest.fixture
def ex() -> Explanation:
    return make_explanation()
