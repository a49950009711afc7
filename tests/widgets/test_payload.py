"""What a view sends to the page: buffers, scales, on-demand rows, message size."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import Image

from tam_widgets.record import format_prob, legend_text, method_label
from tam_widgets.testing.records import small_record, synthetic_record
from tam_widgets.widgets.payload import build_payload, encode_image, quantize


def test_quantize_keeps_unit_rows_as_stored_and_scales_the_rest():
    maps = np.array([[0.0, 0.2, 1.0], [-1.0, 1.0, 3.0], [0.3, 0.3, 0.3], [np.nan, 0.5, np.inf]], np.float32)
    u8, lo, span = quantize(maps)
    assert u8[0].tolist() == [0, 51, 255] and (lo[0], span[0]) == (0, 1)
    assert u8[1].tolist() == [0, 128, 255] and (lo[1], span[1]) == (-1, 4)
    assert u8[2].tolist() == [76, 76, 76]  # a constant row inside [0, 1] keeps its level
    assert u8[3].tolist() == [0, 128, 0]  # NaN and inf count as 0
    # The page turns u8 back into map units with lo + span * u8 / 255.
    np.testing.assert_allclose(lo[1] + span[1] * u8[1] / 255, maps[1], atol=span[1] / 255)


def test_quantize_constant_row_outside_unit_range_is_flat_zero():
    u8, lo, span = quantize(np.full((1, 4), 7.0, np.float32))
    assert u8.tolist() == [[0, 0, 0, 0]] and lo[0] == 7 and span[0] == 0


def test_payload_matches_the_record():
    exp = small_record()
    p = build_payload(exp)
    meta = p.meta
    assert meta["tokens"][14] == [" <script>alert(1)</script>", "answer", 0]
    assert meta["explained"] == exp.explained.tolist()
    assert meta["methods"] == [{"name": k, "label": method_label(k), "legend": legend_text(k)} for k in exp.methods]
    assert meta["methods"][1]["label"] == "CAM (baseline)" and "CAM" in meta["methods"][1]["legend"]
    assert meta["warning"] is None
    assert meta["grids"][0] | {"boxes": None} == {
        "kind": "image", "label": "image 1", "offset": 0, "shape": [1, 6, 8], "frames": [0], "boxes": None,
        "turn": 0,
    }
    assert meta["images"] == [{"width": 128, "height": 96, "mime": "image/png"}]
    # [label, probability as text, is the explained token, label is bytes]; these ids are not the tokens'
    assert meta["candidates"][1] == [[" cat", "70%", 0, 0], [" dog", "20%", 0, 0], [" <b>", "5%", 0, 0]]
    for j, name in enumerate(exp.methods):
        u8, lo, span = quantize(exp.maps[name])
        np.testing.assert_array_equal(p.maps[name], u8)
        np.testing.assert_array_equal(p.scales[j], np.stack([lo, span], -1))
    state = p.buffers()
    rel = np.frombuffer(state["relevance"], np.float16).reshape(exp.text_relevance.shape)
    np.testing.assert_array_equal(rel, exp.text_relevance)
    png = Image.open(io.BytesIO(bytes(state["images"][0])))
    np.testing.assert_array_equal(np.asarray(png), exp.images[0])  # PNG is lossless


def test_no_number_lists_in_the_json():
    p = build_payload(synthetic_record(64, grid=(24, 32), image_size=(336, 448)))
    text = json.dumps(p.meta)
    # Only the small per-token/per-grid lists are JSON; nothing with a map's length.
    def longest(x):
        if isinstance(x, list):
            return max([len(x)] + [longest(v) for v in x])
        if isinstance(x, dict):
            return max([0] + [longest(v) for v in x.values()])
        return 0
    assert longest(p.meta) <= len(p.meta["tokens"]) < 24 * 32
    assert len(text) < 0.05 * p.raw_nbytes()


@pytest.mark.parametrize(
    "record",
    [
        lambda: synthetic_record(512, grid=(36, 48), image_size=(576, 768)),
        lambda: synthetic_record(30, grid=(18, 24), image_size=(432, 576), frames=10),
        lambda: synthetic_record(64, grid=(24, 32), image_size=(336, 448), n_images=2),
    ],
    ids=["512-tokens", "video-10-frames", "two-images"],
)
def test_wire_size_within_1_2x_of_raw_bytes(record):
    from ipywidgets.widgets.widget import _remove_buffers

    p = build_payload(record())
    state, _, buffers = _remove_buffers({"_payload": p.buffers()})
    wire = len(json.dumps(state).encode()) + sum(len(memoryview(b).cast("B")) for b in buffers)
    assert wire <= 1.2 * p.raw_nbytes()
    assert wire == pytest.approx(p.nbytes(), rel=0.01)


def test_large_records_fetch_rows_on_demand():
    exp = synthetic_record(40, grid=(6, 8))
    p = build_payload(exp, max_inline_bytes=1000)
    assert p.meta["on_demand"] and p.buffers()["maps"] == {k: None for k in exp.methods}
    assert p.meta["chunk"] == 1_000_000 // 48
    rows = np.frombuffer(p.rows("cam", 3, 7), np.uint8).reshape(4, 48)
    np.testing.assert_array_equal(rows, quantize(exp.maps["cam"])[0][3:7])
    with pytest.raises(ValueError, match="unknown method 'gradcam'"):
        p.rows("gradcam", 0, 1)
    with pytest.raises(ValueError, match="out of range for 40"):
        p.rows("tam", 30, 41)
    assert not build_payload(exp).meta["on_demand"]


def test_encode_image_formats():
    img = np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)
    data, mime = encode_image(img)
    assert mime == "image/jpeg" and data[:2] == b"\xff\xd8"
    data, mime = encode_image(img, "png")
    assert mime == "image/png" and np.array_equal(np.asarray(Image.open(io.BytesIO(data))), img)
    with pytest.raises(ValueError, match="image_format"):
        encode_image(img, "gif")


def test_build_payload_rejects_non_records():
    with pytest.raises(TypeError, match="expected an Explanation"):
        build_payload({"maps": []})


def test_labels_probabilities_and_warning_reach_the_page_ready_to_show():
    exp = synthetic_record([" A", "", " caf", "x"])
    exp.tokens[13] = dataclasses.replace(exp.tokens[13], text="")  # an empty token
    exp.tokens[14] = dataclasses.replace(exp.tokens[14], text="\ufffd", raw_bytes=b"\xc3")  # a byte fragment
    exp.candidate_ids[0] = [exp.tokens[12].id, 9001, -1]
    exp.candidate_texts[0] = [" A", "\ufffd", ""]
    exp.candidate_probs[0] = [0.4123, 0.00042, 0.0]
    exp.candidate_ids[1] = [exp.tokens[14].id, 8, exp.tokens[13].id]
    exp.candidate_texts[1] = ["\ufffd", "<0xE2><0x80>", ""]
    exp.candidate_probs[1] = [0.5, 1e-9, 0.3]
    exp.metadata["untrained"] = True
    meta = build_payload(exp).meta
    assert meta["tokens"][13] == ["", "answer", 0]  # shown as an empty-token mark by the page
    assert meta["tokens"][14] == ["<0xC3>", "answer", 0, 1]  # Token.label, flagged as bytes
    assert meta["tokens"][15] == ["x", "answer", 0]
    # padding (id -1) left out; the chosen one found by id; fragments never look alike
    assert meta["candidates"][0] == [[" A", "41.2%", 1, 0], ["<id 9001>", "0.042%", 0, 1]]
    # a fragment that is a record token shows that token's bytes
    assert meta["candidates"][1] == [["<0xC3>", "50%", 0, 1], ["<0xE2><0x80>", "<0.001%", 0, 1], ["", "30%", 1, 0]]
    assert [c[1] for c in meta["candidates"][0]] == [format_prob(0.4123), format_prob(0.00042)]
    assert meta["warning"].startswith("untrained model:")
    exp.metadata = {"synthetic": True}
    assert build_payload(exp).meta["warning"].startswith("synthetic scene:")
