"""ChatTimeline: its payload and state, the offline page, and a live chat's events driving what the page gets."""

from __future__ import annotations

import base64
import json
import re
import threading
import time

import numpy as np
import pytest
import traitlets

import tam_widgets as tw
from tam_widgets.testing.fake_chat import FakeChat, Turn, conversation_record
from tam_widgets.testing.records import small_record
from tam_widgets.widgets import timeline
from tam_widgets.widgets.timeline import ChatTimeline, visible_grids


def three_turns():
    return conversation_record([
        Turn("Describe the image.", [" Two", " dogs", " <script>alert(1)</script>"], images=1),
        Turn("Which dog is fatter?", [" The", " left", " one"], images=1),
        Turn("What colour is the chair?", [" Red"]),
    ])


def page_doc(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="tam-doc-[0-9a-f]+">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def test_static_timeline_payload_and_state():
    exp = three_turns()
    tl = ChatTimeline(exp)
    assert tw.ChatTimeline is ChatTimeline
    assert tl._view == "chat_timeline" and tl.live is False and tl.busy is False and tl.error == ""
    assert tl.selected == int(exp.explained[0]) and tl.method == "tam"
    (entry,) = tl._records
    assert [g["turn"] for g in entry["meta"]["grids"]] == [0, 1]
    assert [t[2] for t in entry["meta"]["tokens"]] == [t.turn for t in exp.tokens]
    with pytest.raises(traitlets.TraitError, match="has no map"):
        tl.selected = 0
    with pytest.raises(traitlets.TraitError, match="expected a boolean"):
        tl.busy = "yes"


def test_grid_turns_decide_what_a_token_could_see():
    exp = three_turns()
    first, second, third = (int(exp.explained[k]) for k in (0, 3, 6))
    assert visible_grids(exp, first) == [0]
    assert visible_grids(exp, second) == visible_grids(exp, third) == [0, 1]
    row = 0  # a turn-1 answer has no map on the turn-2 picture
    assert not exp.maps["tam"][row, exp.grids[1].offset :].any()
    # records from before grids knew their turn (and .tam files of that time) count every grid as turn 0
    old = small_record()
    assert all(g.turn == 0 for g in old.grids)
    assert visible_grids(old, int(old.explained[0])) == [0]
    assert ChatTimeline(old)._records[0]["meta"]["grids"][0]["turn"] == 0


def test_refuses_what_it_cannot_show():
    with pytest.raises(TypeError, match="shows an Explanation .* or a chat"):
        ChatTimeline("chat.tam")
    empty = three_turns()
    empty.explained, empty.text_relevance = empty.explained[:0], empty.text_relevance[:0]
    empty.maps = {k: v[:0] for k, v in empty.maps.items()}
    with pytest.raises(ValueError, match="no explained tokens"):
        ChatTimeline(empty)
    with pytest.raises(TypeError, match="unknown timeline attribute"):
        timeline.to_html(three_turns(), None, region=[0, 0, 1, 1, 2, 2])


def test_output_has_a_picture_and_a_summary_of_every_turn():
    exp = three_turns()
    tl = ChatTimeline(exp, selected=int(exp.explained[1]))
    data, _ = tl._repr_mimebundle_()
    png = base64.b64decode(data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 200_000
    text = data["text/plain"]
    assert text.splitlines()[0] == "ChatTimeline of synthetic/chat: 3 turns"
    assert "turn 2: user: Which dog is fatter? | answer: The left one" in text
    assert text.splitlines()[-1] == "selected: token 12 ' dogs' of turn 1 (TAM map)"


def test_to_html_is_one_offline_page_of_the_whole_conversation(tmp_path):
    exp = three_turns()
    tl = ChatTimeline(exp, colormap="viridis")
    path = tl.to_html(tmp_path / "chat.html")
    html = path.read_text()
    assert 'http-equiv="Content-Security-Policy"' in html and "default-src 'none'" in html
    assert "<script>alert(1)" not in html  # token text travels as escaped JSON
    doc = page_doc(html)
    assert doc["view"] == "chat_timeline" and len(doc["records"]) == 1
    assert doc["state"] == {"selected": int(exp.explained[0]), "method": "tam", "colormap": "viridis",
                            "opacity": 0.55, "show_specials": False, "live": False, "busy": False, "error": ""}
    meta = doc["records"][0]["meta"]
    assert {t[2] for t in meta["tokens"]} == {0, 1, 2} and [g["turn"] for g in meta["grids"]] == [0, 1]
    assert "3-turn chat" in html[html.index("<title>"): html.index("</title>")]


def test_a_chat_before_its_first_turn_shows_the_question_box_only():
    chat = FakeChat()
    tl = ChatTimeline(chat)
    assert tl.live is True and tl._records == [] and tl.explanation is None
    data, _ = tl._repr_mimebundle_()
    assert "image/png" not in data and data["text/plain"].startswith("ChatTimeline: no turn yet")
    with pytest.raises(ValueError, match="no turn yet"):
        tl.to_html(None)


def pushes(tl):
    """Every record the widget sends to the page, with the time it was sent."""
    seen = []
    tl.observe(lambda ch: seen.append((time.monotonic(), ch["new"][0]["meta"] if ch["new"] else None)), "_records")
    return seen


def test_chat_events_drive_the_pushed_records():
    chat = FakeChat(answer_tokens=5)
    tl = ChatTimeline(chat)
    seen = pushes(tl)
    busy = []
    tl.observe(lambda ch: busy.append(ch["new"]), "busy")
    exp = chat.ask("Describe the image.", stream=True)
    assert busy == [True, False]
    assert tl.explanation is exp and tl.selected == -1  # the page picks its token
    metas = [m for _, m in seen]
    answers = [sum(t[1] == "answer" for t in m["tokens"]) for m in metas]
    assert answers[0] == 1 and answers[-1] == 5 and answers == sorted(answers)  # the first token went at once
    assert len(metas) <= 5  # throttled: not one whole record per token
    assert metas[-1]["tokens"] == tl._records[0]["meta"]["tokens"]
    # an ask from Python of a second turn with a picture updates the same view
    chat.ask("Which dog is fatter?", images=[np.zeros((8, 8, 3), np.uint8)], stream=True)
    assert [g["turn"] for g in tl._records[0]["meta"]["grids"]] == [0, 1]
    assert max(t[2] for t in tl._records[0]["meta"]["tokens"]) == 1


def test_the_first_token_reaches_the_page_within_100_ms():
    chat = FakeChat(answer_tokens=3, grid=(24, 32), image_size=(336, 448), methods=("tam",))
    chat.ask("Describe the image.")
    tl = ChatTimeline(chat)
    seen = pushes(tl)
    token_at = []
    chat.subscribe(lambda ev: ev.kind == "token" and not token_at and token_at.append(time.monotonic()))
    before = time.monotonic()
    chat.ask("And the chair?", stream=True)
    first = next(t for t, m in seen if m and max(x[2] for x in m["tokens"]) == 1)
    # the widget (subscribed first) pushes inside the token's event, before later subscribers hear of it
    assert before <= first <= token_at[0] and first - before < 0.1


def test_a_failed_turn_shows_its_error_and_keeps_the_conversation():
    chat = FakeChat(answer_tokens=4)
    tl = ChatTimeline(chat)
    exp = chat.ask("Describe the image.", stream=True)
    tl.selected = int(exp.explained[-1])
    chat.fail(MemoryError("CUDA out of memory"), after=2)
    pinned = []
    chat.subscribe(lambda ev: ev.kind == "token" and (setattr(tl, "selected", int(tl.explanation.explained[-1])),
                                                      pinned.append(tl.selected)))
    with pytest.raises(MemoryError):
        chat.ask("Which dog?", stream=True)
    assert pinned  # the page had pinned a token of the failed turn
    assert tl.error == "MemoryError: CUDA out of memory" and tl.busy is False
    assert tl.explanation is exp and chat.explanation is exp
    assert tl._records[0]["meta"]["tokens"] == ChatTimeline(exp)._records[0]["meta"]["tokens"]
    assert tl.selected == -1  # the pinned token went with the turn: the page picks one again
    chat.ask("Which dog?", stream=True)  # the next turn works and clears the error
    assert tl.error == "" and max(t.turn for t in tl.explanation.tokens) == 1


def test_page_asks_run_in_the_background_and_stop_keeps_a_complete_turn():
    chat = FakeChat(answer_tokens=200, token_delay=0.01)
    chat.ask("Describe the image.")
    tl = ChatTimeline(chat)
    sent = []
    tl.send = lambda content, buffers=None: sent.append(content)
    t0 = time.monotonic()
    tl._on_message(tl, {"type": "ask", "text": "Which dog is fatter?"}, [])
    assert time.monotonic() - t0 < 0.05  # the kernel is free to serve the page while the model writes
    deadline = time.monotonic() + 5
    while not (tl.explanation and max(t.turn for t in tl.explanation.tokens) == 1) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tl.busy is True
    tl._on_message(tl, {"type": "ask", "text": "again?"}, [])
    assert sent[-1] == {"type": "ask", "error": "the model is still answering: wait for it or press Stop"}
    rows = tl._records[0]["meta"]["n_visual"]  # maps are served while the model writes
    tl._on_message(tl, {"type": "maps", "request": 1, "record": "r0", "method": "tam", "start": 0, "stop": 1}, [])
    assert sent[-1]["type"] == "maps" and rows > 0
    tl._on_message(tl, {"type": "stop"}, [])
    tl._worker.join(5)
    assert not tl._worker.is_alive() and tl.busy is False and tl.error == ""
    last = [t for t in tl.explanation.tokens if t.turn == 1]
    n_answer = sum(t.role == "answer" for t in last)
    assert 0 < n_answer < 200 and last[-1].text == "<|im_end|>"  # what was written, as a complete turn
    assert tl.explanation is chat.explanation


def test_page_messages_it_cannot_serve_get_a_reason():
    tl = ChatTimeline(three_turns())
    sent = []
    tl.send = lambda content, buffers=None: sent.append(content)
    tl._on_message(tl, {"type": "ask", "text": "hello"}, [])
    tl._on_message(tl, {"type": "stop"}, [])
    assert "saved record" in sent[0]["error"] and "nothing to stop" in sent[1]["error"]
    live = ChatTimeline(FakeChat())
    live.send = lambda content, buffers=None: sent.append(content)
    for bad in ("", "   ", None, 42):
        live._on_message(live, {"type": "ask", "text": bad}, [])
        assert sent[-1]["error"].startswith('send {type: "ask", text:')
    live._on_message(live, {"type": "ask", "text": "why? " * 10_000}, [])
    assert sent[-1]["error"] == "the question has 50000 characters; ask one of at most 20000"
    live._on_message(live, "nonsense", [])
    assert sent[-1]["type"] == "error"
    assert live.chat.explanation is None and not live.busy  # nothing was asked


def test_a_failing_subscriber_never_breaks_the_chat():
    chat = FakeChat(answer_tokens=2)
    tl = ChatTimeline(chat)
    tl._show = None  # a broken display
    with pytest.warns(UserWarning, match="could not (show a chat event|send the record)"):
        exp = chat.ask("Describe.", stream=True)
    assert chat.explanation is exp


def test_close_unsubscribes():
    chat = FakeChat(answer_tokens=2)
    tl = ChatTimeline(chat)
    tl.close()
    chat.ask("Describe.", stream=True)
    assert tl.explanation is None and not chat._subscribers


def test_threads_do_not_race_on_pushes():
    chat = FakeChat(answer_tokens=60, token_delay=0.002)
    tl = ChatTimeline(chat)
    errors = []
    worker = threading.Thread(target=lambda: chat.ask("Describe.", stream=True))
    worker.start()
    while worker.is_alive():
        try:
            entry = tl._records[0] if tl._records else None
            if entry is not None:
                assert len(entry["meta"]["explained"]) * entry["meta"]["n_visual"] == len(entry["maps"]["tam"])
        except AssertionError as e:  # pragma: no cover - what this test looks for
            errors.append(e)
        time.sleep(0.001)
    worker.join()
    time.sleep(timeline.PUSH_INTERVAL * 2)  # a throttled push left waiting never lands after the end
    assert not errors and len(tl._records[0]["meta"]["explained"]) == 60


def test_cached_payloads_of_a_growing_conversation_equal_fresh_ones():
    from tam_widgets.widgets.payload import build_payload

    cache: dict = {}
    steps = [
        [Turn("Describe.", 3, images=1, closed=False)],
        [Turn("Describe.", 4, images=1)],
        [Turn("Describe.", 4, images=1), Turn("And this one?", 2, images=1, closed=False)],  # a picture adds columns
        [Turn("Describe.", 4, images=1), Turn("And this one?", 3, images=1)],
    ]
    for turns in steps:
        exp = conversation_record(turns, methods=("tam", "cam"))
        cached, fresh = build_payload(exp, cache=cache), build_payload(exp)
        assert cached.meta == fresh.meta and cached.images == fresh.images
        for m in exp.methods:
            assert np.array_equal(cached.maps[m], fresh.maps[m])
        assert np.array_equal(cached.scales, fresh.scales)
    # a changed earlier row is quantized again, not reused
    exp = conversation_record(steps[-1], methods=("tam",))
    build_payload(exp, cache=cache)
    exp.maps["tam"][0] = exp.maps["tam"][0] * 0.5
    assert np.array_equal(build_payload(exp, cache=cache).maps["tam"], build_payload(exp).maps["tam"])


def test_cli_writes_a_saved_chat_as_a_timeline_page(tmp_path, capsys):
    from tam_widgets.cli import main

    rec = tmp_path / "chat.tam"
    three_turns().save(rec)
    assert main(["timeline", str(rec), "--colormap", "viridis"]) == 0
    out = tmp_path / "chat.timeline.html"
    assert f"wrote {out}" in capsys.readouterr().out
    doc = page_doc(out.read_text())
    assert doc["view"] == "chat_timeline" and doc["state"]["colormap"] == "viridis"
    assert main(["timeline", str(tmp_path / "missing.tam")]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_chats_thread_never_waits_for_a_push_in_progress(monkeypatch):
    slow = timeline.timeline_payload

    def payload(exp, **options):  # a costly record: 200 ms to prepare
        time.sleep(0.2)
        return slow(exp, **options)

    monkeypatch.setattr(timeline, "timeline_payload", payload)
    chat = FakeChat(answer_tokens=30, token_delay=0.01)
    tl = ChatTimeline(chat)
    spent = []
    handler = tl._on_event

    def timed(event):
        t = time.monotonic()
        handler(event)
        if event.kind == "token":
            spent.append(time.monotonic() - t)

    tl._unsubscribe()
    chat.subscribe(timed)
    seen = pushes(tl)
    chat.ask("Describe.", stream=True)
    assert spent[0] >= 0.2  # the first token's map goes at once, from the chat's thread
    # later tokens only leave their record for the timer's thread (waiting for its push would take ~200 ms)
    assert max(spent[1:]) < 0.1, spent
    assert 2 <= len(seen) < 30 and len(tl._records[0]["meta"]["explained"]) == 30
    time.sleep(0.5)  # a push that was on its way never lands after the end
    assert len(tl._records[0]["meta"]["explained"]) == 30


def test_a_real_chat_streams_into_its_timeline_and_page_asks_run_in_the_background():
    """The real ``Chat`` (tiny Qwen2-VL) drives the view as the fake does: pushes while it writes, a page ask."""
    from skimage import data as skimage_data

    import tam_widgets as tw
    from tam_widgets.testing import tiny_model

    chat = tw.load(tiny_model("qwen2_vl"), max_new_tokens=6, min_new_tokens=6).chat(image=skimage_data.chelsea())
    chat.ask("Describe the image.")
    tl = chat.timeline()
    assert isinstance(tl, ChatTimeline) and tl.live is True and tl.chat is chat
    seen = pushes(tl)
    exp = chat.ask("What colour is the cat?", images=[skimage_data.coffee()], stream=True)
    assert tl.explanation is exp and len(seen) >= 2  # the growing turn went to the page before the end
    assert [g["turn"] for g in tl._records[0]["meta"]["grids"]] == [0, 1]
    tl.send = lambda content, buffers=None: None
    tl._on_message(tl, {"type": "ask", "text": "And the cup?"}, [])
    tl._worker.join(60)
    assert not tl._worker.is_alive() and tl.error == "" and tl.busy is False
    assert max(t.turn for t in tl.explanation.tokens) == 2 and tl.explanation is chat.explanation


def apply_pushes(entry: dict, appends: list[tuple[dict, list]]) -> dict:
    """The page's copy after ``appends`` (what ``js/src/components/growth.ts`` does), as whole arrays."""
    meta = json.loads(json.dumps(entry["meta"]))
    methods = [m["name"] for m in meta["methods"]]
    nv, n = meta["n_visual"], len(meta["tokens"])
    rows = len(meta["explained"])
    maps = {m: np.frombuffer(entry["maps"][m], np.uint8).reshape(rows, nv) for m in methods}
    scales = np.frombuffer(entry["scales"], np.float32).reshape(len(methods), rows, 2)
    rel = [r for r in np.frombuffer(entry["relevance"], np.float16).reshape(rows, n)]
    seq = entry["seq"]
    for msg, buffers in appends:
        assert msg["seq"] == seq + 1 and msg["tokens"]["start"] == len(meta["tokens"])
        assert msg["rows"]["start"] == len(meta["explained"])
        k = len(msg["rows"]["explained"])
        meta["tokens"] += msg["tokens"]["items"]
        meta["words"][msg["words"]["start"]:] = msg["words"]["items"]
        meta["explained"] += msg["rows"]["explained"]
        meta["candidates"] += msg["rows"]["candidates"]
        for j, m in enumerate(methods):
            maps[m] = np.concatenate([maps[m], np.frombuffer(buffers[j], np.uint8).reshape(k, nv)])
        added = np.frombuffer(buffers[len(methods)], np.float32).reshape(len(methods), k, 2)
        scales = np.concatenate([scales, added], 1)
        rel += list(np.frombuffer(buffers[-1], np.float16).reshape(k, msg["n_tokens"]))
        seq = msg["seq"]
    n = len(meta["tokens"])
    relevance = np.stack([np.pad(r, (0, n - len(r))) for r in rel])
    return {"meta": meta, "maps": maps, "scales": scales, "relevance": relevance, "seq": seq}


def test_pushes_after_a_turns_first_carry_only_what_is_new_and_add_up_to_the_record():
    chat = FakeChat(answer_tokens=24, token_delay=0.02, methods=("tam", "cam"))
    chat.ask("Describe the image.", images=None)
    tl = ChatTimeline(chat, snapshot=False)
    sent, entries = [], []
    tl.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
    tl.observe(lambda ch: entries.append(ch["new"][0]), "_records")
    exp = chat.ask("Which dog is fatter?", stream=True)
    appends = [(m, b) for m, b in sent if m["type"] == "append"]
    # the turn's first token: the whole record (a new turn); the end: the whole record again, numbered as the
    # page's copy is then, so the page keeps what it built
    assert len(entries) == 2 and 3 <= len(appends) < 24, (len(entries), len(appends))
    first, last = entries
    assert sum(t[1] == "answer" and t[2] == 1 for t in first["meta"]["tokens"]) == 1
    nv = first["meta"]["n_visual"]
    for msg, buffers in appends:
        k = len(msg["rows"]["explained"])
        assert 1 <= k < 24 and all(msg["tokens"]["start"] <= i for i in msg["rows"]["explained"])
        assert [len(b) for b in buffers] == [k * nv, k * nv, 2 * k * 2 * 4, k * msg["n_tokens"] * 2]  # new rows only
    page = apply_pushes(first, appends)
    assert page["seq"] == last["seq"] == tl._wire
    whole = timeline.timeline_payload(exp)
    assert page["meta"] == json.loads(json.dumps(whole.meta))
    for m in exp.methods:
        np.testing.assert_array_equal(page["maps"][m], whole.maps[m])
    np.testing.assert_array_equal(page["scales"], whole.scales)
    np.testing.assert_array_equal(page["relevance"], whole.relevance)


def test_a_page_that_missed_a_push_gets_the_whole_record_again():
    chat = FakeChat(answer_tokens=30, token_delay=0.01)
    chat.ask("Describe the image.")
    tl = ChatTimeline(chat, snapshot=False)
    sent = []
    tl.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
    worker = threading.Thread(target=lambda: chat.ask("Which dog?", stream=True))
    worker.start()
    deadline = time.monotonic() + 5
    while not any(m["type"] == "append" for m, _ in sent) and time.monotonic() < deadline:
        time.sleep(0.005)
    wire = tl._wire
    tl._on_message(tl, {"type": "resync", "record": "r0", "have": wire - 1}, [])  # the page saw a gap
    entry = tl._records[0]
    assert entry["seq"] > wire and len(entry["meta"]["tokens"]) == len(tl.explanation.tokens)
    worker.join()
    later = [m for m, _ in sent if m["type"] == "append" and m["seq"] > entry["seq"]]
    assert later and later[0]["seq"] == entry["seq"] + 1  # pushes go on from the whole record
    assert later[0]["tokens"]["start"] == len(entry["meta"]["tokens"])
    assert tl._records[0]["seq"] == tl._wire and len(tl._records[0]["meta"]["explained"]) == 60
