"""RecordsWidget: several records in one widget, the row protocol keyed by record id with request ids."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.testing.records import small_record, synthetic_record
from tam_widgets.widgets.base import RecordsWidget, answer_message
from tam_widgets.widgets.payload import build_payload, quantize


class TwoRecords(RecordsWidget):
    VIEW = "test_pair"


@pytest.fixture
def pair(monkeypatch):
    a, b = small_record(), synthetic_record(["x", "y", "z"], grid=(4, 4), image_size=(40, 40))
    w = TwoRecords([a, b], max_inline_bytes=10)
    sent = []
    monkeypatch.setattr(w, "send", lambda content, buffers=None: sent.append((content, buffers)))
    return w, a, b, sent


def test_records_have_ids_and_payloads(pair):
    w, a, b, _ = pair
    assert w._view == "test_pair"
    assert [r["id"] for r in w._records] == ["r0", "r1"]
    assert set(w._records[0]) == {"id", "meta", "maps", "scales", "relevance", "images"}
    assert w._records[1]["maps"] == {k: None for k in b.methods}  # on demand
    assert w.explanations == {"r0": a, "r1": b}


def test_rows_are_served_from_the_named_record(pair):
    w, a, b, sent = pair
    w._on_message(w, {"type": "maps", "request": 3, "record": "r1", "method": "tam", "start": 0, "stop": 2}, [])
    content, buffers = sent[-1]
    assert content == {"type": "maps", "request": 3, "record": "r1", "method": "tam", "start": 0, "stop": 2}
    rows = np.frombuffer(buffers[0], np.uint8).reshape(2, 16)
    np.testing.assert_array_equal(rows, quantize(b.maps["tam"])[0][:2])
    w._on_message(w, {"type": "maps", "request": 4, "record": "r0", "method": "tam", "start": 0, "stop": 2}, [])
    content, buffers = sent[-1]
    assert content["record"] == "r0" and content["request"] == 4
    np.testing.assert_array_equal(np.frombuffer(buffers[0], np.uint8).reshape(2, 48), quantize(a.maps["tam"])[0][:2])


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "maps", "request": 1, "record": "r2", "method": "tam", "start": 0, "stop": 1}, "unknown record 'r2'"),
        ({"type": "maps", "request": 1, "record": 0, "method": "tam", "start": 0, "stop": 1}, "unknown record 0"),
        ({"type": "maps", "request": 1, "method": "tam", "start": 0, "stop": 1}, "record is missing"),
        ({"type": "maps", "request": "1", "record": "r0", "method": "tam", "start": 0, "stop": 1},
         "request must be an integer, got str"),
        ({"type": "maps", "request": 1, "record": "r1", "method": "tam", "start": 0, "stop": 9}, "out of range for 3"),
    ],
)
def test_bad_requests_name_what_was_wrong(pair, message, error):
    w, *_, sent = pair
    w._on_message(w, message, [])  # never raises
    [(content, buffers)] = sent
    assert buffers is None and error in content["error"], content
    assert {k: content[k] for k in message if k in ("request", "record")} == {
        k: message[k] for k in message if k in ("request", "record")}  # the page can match the reply


def test_a_reply_for_one_record_never_carries_anothers_rows():
    a, b = small_record(), synthetic_record(["x", "y", "z"], grid=(4, 4), image_size=(40, 40))
    payloads = {"r0": build_payload(a), "r1": build_payload(b)}
    reply, data = answer_message(payloads, {"type": "maps", "request": 9, "record": "r1", "method": "tam",
                                            "start": 0, "stop": 1})
    assert reply["record"] == "r1" and len(data) == 16  # r1's 4x4 grid, not r0's 48 cells
    reply, data = answer_message(payloads, {"type": "error", "request": 2, "record": "r0"})
    assert data is None and (reply["request"], reply["record"]) == (2, "r0")
    assert "unknown message type" in reply["error"]


def test_a_lone_payload_is_record_r0():
    p = build_payload(small_record())
    reply, data = answer_message(p, {"type": "maps", "method": "tam", "start": 0, "stop": 1})
    assert reply == {"type": "maps", "method": "tam", "start": 0, "stop": 1} and len(data) == 48
