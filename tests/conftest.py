"""Shared fixtures: the golden files of the official TAM code, and synthetic samples."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLDEN = SHARED / "golden"
GOLDEN_FILES = ["tam_ref_image_24x32.npz", "tam_ref_video_4x12x16.npz"]

if (SHARED / "nltk_data").is_dir():
    os.environ.setdefault("NLTK_DATA", str(SHARED / "nltk_data"))


def load_golden(name: str) -> dict:
    """One golden fixture with its token layout decoded (skips when ../shared is absent)."""
    path = GOLDEN / name
    if not path.exists():
        pytest.skip(f"golden fixture {path} not found: it lives in ../shared/golden beside the repo")
    with np.load(path, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    tokens = d["tokens"]
    start, end = int(np.flatnonzero(tokens == 4)[0]), int(np.flatnonzero(tokens == 5)[0])
    n_p = int(d["n_p"])
    d["layout"] = dict(
        visual_positions=np.arange(start + 1, end),
        prompt_positions=np.arange(end + 1, end + 1 + n_p),
        answer_start=int(d["L_in"]),
        grid=tuple(int(x) for x in d["vision_shape"]),
    )
    return d


@pytest.fixture(params=GOLDEN_FILES)
def golden(request) -> dict:
    return load_golden(request.param)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium (Playwright sync API): skipped when missing, but a failure when CI=true/1."""
    from tam_widgets.testing.browser import launch, require_browser

    require_browser()
    with launch() as b:
        yield b
