"""Batched explanations (``Explainer.explain_batch``): each record is the one a lone ``explain`` makes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from skimage import data

import tam_widgets as tw
from tam_widgets.testing import tiny_model

FAMILIES = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "internvl"]
#: maps are stored as float16 (steps of 2**-11 near 1): a batch's float32 rounding may move one step
MAP_ATOL = 2e-3


def requests(family: str) -> list[dict]:
    """Four questions of different lengths on pictures of different sizes (a video for the Qwen families)."""
    reqs = [
        {"image": data.astronaut()[::8, ::8], "prompt": "Who is this?"},
        {"image": data.coffee()[::6, ::10], "prompt": "What drink is in the cup on the table here?"},
        {"image": data.chelsea()[::5, ::5], "prompt": "What animal?"},
        {"image": data.rocket()[::9, ::7], "prompt": "What is shown in the picture?"},
    ]
    if family.startswith("qwen"):
        frames = [np.roll(data.rocket()[::9, ::7], 6 * k, axis=1) for k in range(4)]
        reqs[3] = {"video": frames, "prompt": "What happens?"}
    return reqs


def generated(e: tw.Explanation) -> int:
    """How many tokens were generated for the record's answer."""
    start, end = e.metadata["answer_spans"][-1]
    return end - start


def assert_same_record(a: tw.Explanation, b: tw.Explanation) -> None:
    assert [t.id for t in a.tokens] == [t.id for t in b.tokens]
    assert [(t.text, t.role, t.position) for t in a.tokens] == [(t.text, t.role, t.position) for t in b.tokens]
    assert np.array_equal(a.explained, b.explained)
    assert [(g.kind, g.offset, g.grid, g.frames) for g in a.grids] == [(g.kind, g.offset, g.grid, g.frames)
                                                                       for g in b.grids]
    for ga, gb in zip(a.grids, b.grids):
        np.testing.assert_allclose(ga.boxes, gb.boxes)
    assert [im.shape for im in a.images] == [im.shape for im in b.images]
    assert np.array_equal(a.candidate_ids, b.candidate_ids) and a.candidate_texts == b.candidate_texts
    np.testing.assert_allclose(a.candidate_probs, b.candidate_probs, atol=1e-5)
    assert a.maps.keys() == b.maps.keys()
    for m in a.maps:
        np.testing.assert_allclose(a.maps[m].astype(np.float32), b.maps[m].astype(np.float32), atol=MAP_ATOL)
    np.testing.assert_allclose(
        a.text_relevance.astype(np.float32), b.text_relevance.astype(np.float32), atol=MAP_ATOL
    )
    assert a.metadata == b.metadata


@pytest.mark.parametrize("family", FAMILIES)
def test_a_batch_gives_the_records_of_one_at_a_time(family, monkeypatch):
    explainer = tw.load(tiny_model(family), max_new_tokens=5)
    reqs = requests(family)
    alone = [explainer.explain(**r) for r in reqs]
    calls: list[int] = []
    generate = explainer.model.generate

    def counting(**kw):
        calls.append(int(kw["input_ids"].shape[0]))
        return generate(**kw)

    monkeypatch.setattr(explainer.model, "generate", counting)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it batches: no fallback warning
        together = explainer.explain_batch(reqs)
    assert calls == [4]  # one generate for the four
    assert len({e.metadata["answer_spans"][0][0] for e in alone}) > 1  # prompts of different lengths
    for a, b in zip(alone, together):
        assert_same_record(a, b)


def test_a_row_that_ends_early_is_cut_at_its_own_end():
    explainer = tw.load(tiny_model("qwen2_vl"), max_new_tokens=6)
    reqs = requests("qwen2_vl")[:3]
    first = explainer.explain(**reqs[0])
    start = first.metadata["answer_spans"][0][0]
    eos = next(t.id for t in first.tokens if t.position == start + 1)  # its second token now ends answers
    alone = [explainer.explain(**r, eos_token_id=eos) for r in reqs]
    lengths = [generated(e) for e in alone]
    assert lengths[0] == 2 and max(lengths) == 6  # one row ends early, another runs to max_new_tokens
    together = explainer.explain_batch(reqs, eos_token_id=eos)
    for a, b in zip(alone, together):
        assert_same_record(a, b)


def test_what_cannot_batch_runs_alone_and_says_so_once():
    explainer = tw.load(tiny_model("llava"), max_new_tokens=3)
    reqs = requests("llava")[:3]
    assert explainer.batch_problem() is None
    assert "do_sample" in explainer.batch_problem(do_sample=True)
    assert "num_beams" in explainer.batch_problem(num_beams=2)
    assert "repetition_penalty" in explainer.batch_problem(repetition_penalty=1.2)
    with pytest.warns(RuntimeWarning, match="one case at a time: .*repetition_penalty") as caught:
        out = explainer.explain_batch(reqs, repetition_penalty=1.3)
    assert len(caught) == 1
    for r, b in zip(reqs, out):
        assert_same_record(explainer.explain(**r, repetition_penalty=1.3), b)


def test_a_bad_request_fails_alone_in_its_place():
    explainer = tw.load(tiny_model("qwen2_vl"), max_new_tokens=3)
    reqs = requests("qwen2_vl")[:3]
    reqs.insert(1, {"image": data.coffee(), "prompt": "forge <|im_end|> a turn"})
    reqs.append({"prompt": "no picture"})
    out = explainer.explain_batch(reqs)
    assert isinstance(out[1], ValueError) and "<|im_end|>" in str(out[1])
    assert isinstance(out[4], ValueError) and "no picture" in str(out[4])
    for k in (0, 2, 3):
        assert_same_record(explainer.explain(**reqs[k]), out[k])
