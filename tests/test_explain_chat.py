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
    exp = chat.ask("Which is brighter?", stream=True)
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
    with pytest.warns(RuntimeWarning, match="subscriber.*KeyError") as caught:
        exp = chat.ask("What is this?", stream=True)
    start, end = exp.metadata["answer_spans"][0]
    assert seen == ["start"] + ["token"] * (end - start) + ["end"]
    assert [str(w.message).split(" event")[0].split()[-1] for w in caught] == [repr(k) for k in seen]
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
    "family, compat",
    [("qwen2_vl", "default"), ("llava", "default"), ("internvl", "default"), ("qwen2_vl", "reference")],
)
def test_streaming_equals_plain_ask_map_for_map(family, compat, photos):
    explainer = tw.load(tiny_model(family), max_new_tokens=6, min_new_tokens=6, compat=compat)
    plain, live = explainer.chat(image=photos["coffee"]), explainer.chat(image=photos["coffee"])
    events = []
    live.subscribe(events.append)
    turns = [("What is this?", None), ("And this?", [photos["chelsea"]])]
    for k, (prompt, images) in enumerate(turns):
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
            explained = set(exp.explained.tolist())
            if compat == "default":
                assert set(answer) <= explained
                assert sum(exp.tokens[i].turn == k for i in exp.explained) == n
            else:  # the official code explains the first prompt token instead of the first generated one,
                # and in a later turn that token is turn 1's, explained there once
                assert set(answer[1:]) <= explained and answer[0] not in explained
                assert sum(exp.tokens[i].turn == k for i in exp.explained) == n - (k > 0)
                assert len(explained) == exp.explained.size
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


def test_token_texts_are_kept_by_the_explainer_across_asks_and_bounded(photos):
    explainer = tw.load(tiny_model("qwen2_5_vl"), max_new_tokens=5, min_new_tokens=5)
    first = explainer.chat(image=photos["coffee"]).ask("What is this?")
    memo = explainer._texts_memo()
    assert memo["alone"] and memo["pairs"] and memo["candidates"]  # kept for the next ask
    again = explainer.chat(image=photos["coffee"]).ask("What is this?", stream=True)  # read from the memo
    _same_records(first, again)
    assert [t.text for t in again.tokens] == [t.text for t in first.tokens]
    assert again.candidate_texts == first.candidate_texts
    assert explainer._texts_memo(limit=0) == {}  # emptied once it holds more pairs than the limit


def test_stream_refuses_beam_search(photos):
    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=3).chat(image=photos["coffee"])
    with pytest.raises(ValueError, match="num_beams"):
        chat.ask("What is this?", stream=True, num_beams=2)
    assert chat.turns == [] and not chat.busy


# -- stop, concurrency, failures ----------------------------------------------------------------
def test_stop_keeps_a_consistent_turn_and_a_second_ask_is_refused_meanwhile(photos):
    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=40, min_new_tokens=40).chat(image=photos["coffee"])
    chat.stop()  # nothing runs: a no-op that does not carry over to the next ask
    first = chat.ask("What is this?", max_new_tokens=3, min_new_tokens=3)
    assert first.metadata["answer_spans"][0][1] - first.metadata["answer_spans"][0][0] == 3
    events, at_token_2, go_on = [], threading.Event(), threading.Event()

    def watch(event):
        events.append(event)
        if event.kind == "token" and sum(e.kind == "token" for e in events) == 2:
            at_token_2.set()
            assert go_on.wait(30)

    chat.subscribe(watch)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("exp", chat.ask("And the colour?", stream=True)))
    worker.start()
    try:
        assert at_token_2.wait(60), "no second token event"
        assert chat.busy
        with pytest.raises(RuntimeError, match="already answering.*chat.stop"):
            chat.ask("Another question at the same time?")
        chat.stop()
    finally:
        go_on.set()
        worker.join(60)
    assert not chat.busy and [e.kind for e in events] == ["start", "token", "token", "end"]
    exp = result["exp"]
    assert events[-1].stopped and events[-1].explanation is exp
    start, end = exp.metadata["answer_spans"][1]
    assert end - start == 2 and len(chat.turns) == 2 and chat.messages[-1]["role"] == "assistant"
    _same_records(events[-2].explanation, exp)  # what was shown last is what is kept
    answer = [i for i, t in enumerate(exp.tokens) if t.turn == 1 and t.position >= start]
    assert len(answer) == 2 and set(answer) <= set(exp.explained.tolist())
    # The conversation goes on after a stopped turn, with a new picture, and is not stopped again.
    nxt = chat.ask("Which is brighter?", images=[photos["chelsea"]], max_new_tokens=3, min_new_tokens=3)
    assert nxt.metadata["prompts"][-1] == "Which is brighter?" and not events[-1].stopped
    assert [g.turn for g in nxt.grids] == [0, 2]
    s2, e2 = nxt.metadata["answer_spans"][2]
    assert e2 - s2 == 3 and s2 > end
    for name in exp.maps:  # the stopped turn's maps are kept as they were
        np.testing.assert_array_equal(nxt.maps[name][: len(exp.explained), : exp.maps[name].shape[1]], exp.maps[name])


@pytest.mark.parametrize("stream", [False, True])
def test_a_failure_on_token_3_leaves_the_chat_as_it_was(photos, stream):
    from tests.test_explain import _chat_state, _same_state

    chat = tw.load(tiny_model("llava"), max_new_tokens=6, min_new_tokens=6).chat(image=photos["coffee"])
    chat.ask("What is this?")
    before = _chat_state(chat)
    events = []
    chat.subscribe(events.append)

    class Boom:
        calls = 0

        def __call__(self, input_ids, scores):
            Boom.calls += 1
            if Boom.calls == 3:
                raise MemoryError("out of memory on token 3 (simulated)")
            return scores

    with pytest.raises(MemoryError, match="token 3"):
        chat.ask("And the colour?", images=[photos["chelsea"]], stream=stream, logits_processor=[Boom()])
    _same_state(before, _chat_state(chat))
    assert not chat.busy
    kinds = [e.kind for e in events]
    assert kinds == ["start"] + ["token"] * 2 * stream + ["error"]
    assert isinstance(events[-1].error, MemoryError) and events[-1].explanation is None and events[-1].turn == 1
    exp = chat.ask("And the colour?", images=[photos["chelsea"]], stream=stream)  # the chat goes on
    assert len(chat.turns) == 2 and [g.turn for g in exp.grids] == [0, 1]


def test_stop_ends_a_plain_ask_too(photos):
    chat = tw.load(tiny_model("qwen3_vl"), max_new_tokens=30, min_new_tokens=30).chat(image=photos["coffee"])
    events = []
    chat.subscribe(events.append)

    class StopAt2:  # stop() as another thread would call it, while token 2 is chosen
        calls = 0

        def __call__(self, input_ids, scores):
            StopAt2.calls += 1
            if StopAt2.calls == 2:
                chat.stop()
            return scores

    exp = chat.ask("What is this?", logits_processor=[StopAt2()])
    start, end = exp.metadata["answer_spans"][0]
    assert end - start == 2 and [e.kind for e in events] == ["start", "end"] and events[-1].stopped
    again = chat.ask("And now?", max_new_tokens=3, min_new_tokens=3)
    assert np.diff(again.metadata["answer_spans"][1]).item() == 3 and not events[-1].stopped


def test_token_records_are_made_when_read_in_any_order_and_not_after_the_next_ask(photos):
    explainer = tw.load(tiny_model("qwen2_vl"), max_new_tokens=5, min_new_tokens=5)
    chat, again = explainer.chat(image=photos["coffee"]), explainer.chat(image=photos["coffee"])
    events, in_order = [], []
    chat.subscribe(events.append)
    again.subscribe(lambda e: e.kind == "token" and in_order.append(e.explanation))
    chat.ask("What is this?", stream=True)
    again.ask("What is this?", stream=True)
    # a reader of every other token (a live view between its pushes): the maps skip nothing
    sparse, seen = explainer.chat(image=photos["coffee"]), []

    def every_other(e):
        if e.kind == "token":
            seen.append(e.explanation if len(seen) % 2 else None)

    sparse.subscribe(every_other)
    _same_records(sparse.ask("What is this?", stream=True), explainer.chat(image=photos["coffee"]).ask("What is this?"))
    assert len(seen) == len(in_order) == 5 and sum(x is not None for x in seen) == 2
    for got, expected in zip(seen, in_order):
        if got is not None:
            _same_records(got, expected)
    tokens = [e for e in events if e.kind == "token"]
    assert "made when read" in repr(tokens[0])
    for e, expected in reversed(list(zip(tokens, in_order))):  # the last token's record first
        _same_records(e.explanation, expected)
    assert tokens[2].explanation is tokens[2].explanation  # made once
    del events[:]
    chat.ask("And the colour?", stream=True)
    unread = events[1]
    chat.ask("And the size?")
    with pytest.raises(RuntimeError, match="before the next ask"):
        _ = unread.explanation


@pytest.mark.parametrize("family", ["qwen2_vl", "llava", "internvl"])
def test_a_model_never_writes_a_picture_placeholder_so_the_chat_goes_on(family, photos):
    explainer = tw.load(tiny_model(family), max_new_tokens=4, min_new_tokens=4)
    placeholders = explainer.adapter.placeholder_ids()
    assert placeholders

    def eager(input_ids, scores):  # a model that would answer with a picture placeholder
        scores[:, placeholders[-1]] += 1e4
        return scores

    chat = explainer.chat(image=photos["coffee"])
    first = chat.ask("What is this?", logits_processor=[eager], stream=True)
    answer = [t.id for t in first.tokens if t.role != "prompt" and t.turn == 0][-4:]
    assert not set(answer) & set(placeholders)
    assert first.candidate_ids[-1, 0] == placeholders[-1]  # the candidates show what the model wanted
    second = chat.ask("And the colour?")  # the placeholder would be counted as a picture it does not have
    assert max(t.turn for t in second.tokens) == 1
