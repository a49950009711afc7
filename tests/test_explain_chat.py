"""Multi-turn chats: grid turns, events, streaming, stop, concurrency (tiny random models, no network)."""

from __future__ import annotations

import dataclasses
import threading

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


# -- events -------------------------------------------------------------------------------------
def test_events_of_plain_asks(photos):
    from tam_widgets.explain import ChatEvent

    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=3).chat(image=photos["coffee"])
    events: list[ChatEvent] = []
    unsubscribe = chat.subscribe(events.append)
    first = chat.ask("What is this?")
    assert [(e.kind, e.turn) for e in events] == [("start", 0), ("end", 0)]
    assert events[0].explanation is None and events[1].explanation is first and events[1].stopped is False
    assert all(e.error is None for e in events)
    second = chat.ask("And the colour?")
    assert [(e.kind, e.turn) for e in events[2:]] == [("start", 1), ("end", 1)]
    assert events[2].explanation is first and events[3].explanation is second
    with pytest.raises(ValueError, match="prompt is empty"):
        chat.ask("  ")
    assert [(e.kind, e.turn) for e in events[4:]] == [("start", 2), ("error", 2)]
    assert isinstance(events[5].error, ValueError) and events[5].explanation is None
    unsubscribe()
    unsubscribe()  # twice is harmless
    chat.ask("And now?")
    assert len(events) == 6
    with pytest.raises(TypeError, match="function"):
        chat.subscribe("not callable")
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].kind = "end"


def test_a_subscriber_that_raises_is_reported_and_the_ask_goes_on(photos):
    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=3).chat(image=photos["coffee"])
    seen = []

    def broken(event):
        raise KeyError("oops")

    chat.subscribe(broken)
    chat.subscribe(lambda e: seen.append(e.kind))
    with pytest.warns(RuntimeWarning, match="subscriber.*KeyError.*'start'"):
        exp = chat.ask("What is this?", stream=True)
    start, end = exp.metadata["answer_spans"][0]
    assert seen == ["start"] + ["token"] * (end - start) + ["end"]
    assert len(chat.turns) == 1


# -- streaming ----------------------------------------------------------------------------------
def _same_records(a, b):
    assert a.tokens == b.tokens
    assert a.methods == b.methods
    for name in a.maps:
        np.testing.assert_array_equal(a.maps[name], b.maps[name], err_msg=name)
    np.testing.assert_array_equal(a.explained, b.explained)
    np.testing.assert_array_equal(a.text_relevance, b.text_relevance)
    np.testing.assert_array_equal(a.candidate_ids, b.candidate_ids)
    np.testing.assert_array_equal(a.candidate_probs, b.candidate_probs)
    assert a.candidate_texts == b.candidate_texts
    np.testing.assert_array_equal(a.words, b.words)
    assert [(g.kind, g.label, g.offset, g.grid, g.frames, g.turn) for g in a.grids] == [
        (g.kind, g.label, g.offset, g.grid, g.frames, g.turn) for g in b.grids
    ]
    assert len(a.images) == len(b.images) and all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    assert a.metadata == b.metadata


@pytest.mark.parametrize(
    "family, compat", [("qwen2_vl", "default"), ("llava", "default"), ("internvl", "default"), ("qwen2_vl", "reference")]
)
def test_streaming_equals_plain_ask_map_for_map(family, compat, photos):
    explainer = tw.load(tiny_model(family), max_new_tokens=6, min_new_tokens=6, compat=compat)
    plain, live = explainer.chat(image=photos["coffee"]), explainer.chat(image=photos["coffee"])
    events = []
    live.subscribe(events.append)
    turns = [("What is this?", None), ("And this?", [photos["chelsea"]])]
    # compat="reference" holds one turn only: its first row of a later turn would be turn 1's first prompt token again.
    for k, (prompt, images) in enumerate(turns if compat == "default" else turns[:1]):
        expected = plain.ask(prompt, images=images)
        del events[:]
        got = live.ask(prompt, images=images, stream=True)
        _same_records(got, expected)
        kinds = [e.kind for e in events]
        start, end = plain.turns[-1].answer_start, plain.turns[-1].answer_end
        assert kinds == ["start"] + ["token"] * (end - start) + ["end"] and {e.turn for e in events} == {k}
        assert events[-1].explanation is got and not events[-1].stopped
        # Each token event: the conversation so far, every generated token of the turn explained.
        for n, e in enumerate(events[1:-1], 1):
            exp = e.explanation
            answer = [i for i, t in enumerate(exp.tokens) if t.turn == k and start <= t.position]
            assert [exp.tokens[i].position for i in answer] == list(range(start, start + n))
            if compat == "default":
                assert set(answer) <= set(exp.explained.tolist())
            else:  # the official code explains the first prompt token instead of the first generated one
                assert set(answer[1:]) <= set(exp.explained.tolist())
            assert sum(exp.tokens[i].turn == k for i in exp.explained) == n
            assert exp.metadata["answer_spans"][-1] == [start, start + n]
            rows = [r for r, i in enumerate(exp.explained) if exp.tokens[i].turn < k or exp.tokens[i].position < start]
            for name in exp.maps:  # earlier rows are already final
                np.testing.assert_array_equal(exp.maps[name][rows], got.maps[name][rows])
        _same_records(events[-2].explanation, got)  # the last token's record is the final one
        assert events[1].explanation.maps["tam"].shape[1] == got.maps["tam"].shape[1]


def test_a_stream_without_subscribers_gives_the_same_record(photos):
    explainer = tw.load(tiny_model("qwen2_5_vl"), max_new_tokens=5, min_new_tokens=5)
    a = explainer.chat(image=photos["coffee"]).ask("What is this?", stream=True)
    b = explainer.chat(image=photos["coffee"]).ask("What is this?")
    _same_records(a, b)


def test_stream_refuses_beam_search(photos):
    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=3).chat(image=photos["coffee"])
    with pytest.raises(ValueError, match="num_beams"):
        chat.ask("What is this?", stream=True, num_beams=2)
    assert chat.turns == [] and not chat.busy
