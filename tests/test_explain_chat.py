"""Multi-turn chats: grid turns, events, streaming, stop, concurrency (tiny random models, no network)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skimage_data

import tam_widgets as tw
from tam_widgets.testing import tiny_model

FAMILIES = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "internvl"]


@pytest.fixture(scope="module")
def photos():
    return {"astronaut": skimage_data.astronaut(), "chelsea": skimage_data.chelsea(), "coffee": skimage_data.coffee()}


@pytest.mark.parametrize("family", FAMILIES)
def test_three_turns_with_a_picture_added_in_turn_2(family, photos, tmp_path):
    explainer = tw.load(tiny_model(family), max_new_tokens=4)
    chat = explainer.chat(image=photos["coffee"])
    chat.ask("What is this?")
    chat.ask("And this one?", images=[photos["chelsea"]])
    exp = chat.ask("Which is brighter?")
    assert exp.metadata["prompts"] == ["What is this?", "And this one?", "Which is brighter?"]
    assert {t.turn for t in exp.tokens if t.role == "answer"} == {0, 1, 2}
    turns = [g.turn for g in exp.grids]
    assert turns[0] == 0 and turns[-1] == 1 and turns == sorted(turns)
    first_new = min(g.offset for g in exp.grids if g.turn == 1)
    assert {exp.images[f].shape for g in exp.grids if g.turn == 1 for f in g.frames} == {
        exp.images[-1].shape
    }  # the turn-2 grids cover the added picture
    # Turn-1 tokens could not see the picture added in turn 2: their maps over it are 0 ...
    rows = np.array([exp.tokens[i].turn for i in exp.explained])
    for name, m in exp.maps.items():
        assert not m[rows == 0, first_new:].any(), name
        # ... and later turns' tokens have maps over it.
        assert m[rows == 2, first_new:].astype(np.float32).sum() > 0, name
    back = tw.Explanation.load(exp.save(tmp_path / "chat.tam"))
    assert [g.turn for g in back.grids] == turns
    from tam_widgets.widgets.payload import build_payload

    assert [g["turn"] for g in build_payload(exp).meta["grids"]] == turns
