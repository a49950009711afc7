"""The study model: lazy cached records with a tiny model, precompute, correctness, suggestions, the figure."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

import tam_widgets as tw
from tam_widgets.record import Token
from tam_widgets.studies import CaseError, Study, star, suggest_reasons, wordnet_relation
from tam_widgets.testing.records import synthetic_record


class Counting:
    """An explainer that counts its calls (and keeps the model's id)."""

    def __init__(self, explainer):
        self.explainer, self.calls, self.model_id = explainer, [], explainer.model_id

    def explain(self, **kw):
        self.calls.append(kw["prompt"])
        return self.explainer.explain(**kw)


@pytest.fixture(scope="module")
def tiny():
    from tam_widgets.testing import tiny_model

    return tw.load(tiny_model("qwen2_vl"))


@pytest.fixture
def photo_cases(tmp_path):
    from skimage import data

    Image.fromarray(data.astronaut()[::8, ::8]).save(tmp_path / "astronaut.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return [
        {
            "id": "ok",
            "image": str(tmp_path / "astronaut.jpg"),
            "question": "Who is this?",
            "answers": ["astronaut"] * 10,
        },
        {"id": "bad/1", "image": str(tmp_path / "broken.jpg"), "question": "What?", "answers": ["x"] * 10},
        {"id": "two", "image": data.coffee()[::8, ::8], "question": "What drink?", "answers": ["coffee"] * 10},
    ]


def test_a_record_is_computed_on_first_open_cached_and_reloaded_without_the_model(tiny, photo_cases, tmp_path):
    store = tmp_path / "study" / "annotations.jsonl"
    model = Counting(tiny)
    s = Study(photo_cases, explainer=model, store=store, generation={"max_new_tokens": 3})
    assert not s.cached("ok") and s.explanation("ok", compute=False) is None
    exp = s.explanation("ok")
    assert model.calls == ["Who is this?"]
    path = tmp_path / "study" / "records" / "ok.tam"
    assert s.record_path("ok") == path and path.is_file() and s.cached("ok")
    assert exp.metadata["study_case"] == {"id": "ok", "prompt": "Who is this?", "generation": {"max_new_tokens": 3}}
    assert exp.metadata["untrained"]
    assert s.explanation("ok") is exp and len(model.calls) == 1  # opened again: no model run
    # a new kernel without a model: the cached record, the same answer
    again = Study(photo_cases, store=store)
    assert again.explanation("ok").answer == exp.answer
    r = again.result("ok")
    assert r["prediction"] == exp.answer.strip() and r["score"] == tw.studies.vqa_accuracy(
        exp.answer, ["astronaut"] * 10
    )
    assert again.explanation("two") is None and again.result("two")["prediction"] is None  # no record, no model
    assert again.record_path("bad/1").name == "bad%2F1.tam"  # ids never leave the records folder


def test_precompute_skips_cached_cases_and_reports_unreadable_ones(tiny, photo_cases, tmp_path):
    model = Counting(tiny)
    s = Study(photo_cases, explainer=model, store=tmp_path / "a.jsonl", generation={"max_new_tokens": 2})
    s.explanation("ok")
    with pytest.warns(UserWarning, match="1 case\\(s\\) failed; see study.errors"):
        counts = s.precompute(workers=2, progress=False)
    assert counts == {"computed": 1, "cached": 1, "failed": 1}
    assert model.calls == ["Who is this?", "What drink?"]
    assert set(s.errors) == {"bad/1"}
    with pytest.raises(CaseError, match="case 'bad/1': cannot read its picture"):
        s.pictures("bad/1")
    # resumed in a new process: nothing is recomputed
    model2 = Counting(tiny)
    s2 = Study(photo_cases, explainer=model2, store=tmp_path / "a.jsonl", generation={"max_new_tokens": 2})
    with pytest.warns(UserWarning, match="failed"):
        assert s2.precompute(progress=False) == {"computed": 0, "cached": 2, "failed": 1}
    assert model2.calls == []
    df = s2.cases.set_index("id")
    assert "broken.jpg" in df.loc["bad/1", "error"] and df.loc["ok", "error"] is None
    assert bool(df.loc["ok", "cached"]) and not bool(df.loc["bad/1", "cached"])
    # sharded: two processes split the cases
    s3 = Study(
        photo_cases, explainer=Counting(tiny), store=tmp_path / "b" / "a.jsonl", generation={"max_new_tokens": 2}
    )
    assert s3.precompute(progress=False, shard=(0, 2)) == {"computed": 2, "cached": 0, "failed": 0}
    assert s3.explainer.calls == ["Who is this?", "What drink?"]  # cases 0 and 2 of 3
    with pytest.raises(ValueError, match="precompute needs an explainer"):
        Study(photo_cases, store=tmp_path / "c.jsonl").precompute()
    with pytest.raises(ValueError, match="workers must be"):
        s.precompute(workers=0)


def test_only_the_last_opened_records_stay_in_memory(tiny, photo_cases, tmp_path, monkeypatch):
    monkeypatch.setattr(Study, "KEEP_OPEN", 1)
    s = Study(photo_cases, explainer=tiny, store=tmp_path / "a.jsonl", generation={"max_new_tokens": 2})
    first = s.explanation("ok")
    assert s.explanation("ok") is first
    s.explanation("two")
    assert list(s._open) == ["two"]
    again = s.explanation("ok")  # read back from its file, not recomputed
    assert again is not first and again.answer == first.answer and list(s._open) == ["ok"]


def test_a_stale_or_damaged_cached_record_is_refused_on_that_case(tiny, photo_cases, tmp_path):
    store = tmp_path / "a.jsonl"
    Study(photo_cases, explainer=tiny, store=store, generation={"max_new_tokens": 2}).explanation("ok")
    changed = [dict(c, prompt="Who is this person?") if c["id"] == "ok" else c for c in photo_cases]
    s = Study(changed, store=store)
    with pytest.raises(
        CaseError, match="is not the record of case 'ok' with prompt 'Who is this person\\?'.*delete it"
    ):
        s.explanation("ok")
    assert "not the record" in s.errors["ok"]
    other = Study(photo_cases, explainer=tiny, store=store, generation={"max_new_tokens": 5})
    with pytest.raises(CaseError, match="generation settings \\{'max_new_tokens': 2\\}, not this study's"):
        other.explanation("ok")
    assert s.result("ok")["prediction"] is None  # shown as an error, not a crash
    (tmp_path / "records" / "ok.tam").write_bytes(b"PK\x03\x04 truncated")
    s = Study(photo_cases, store=store)
    with pytest.raises(CaseError, match="cached record is unreadable"):
        s.explanation("ok")
    assert s.cases.set_index("id").loc["ok", "error"]


def test_a_star_clip_is_explained_from_frames_inside_its_interval(tiny, star_files, tmp_path):
    s = star(tiny, star_files["json"], star_files["videos"], max_frames=2, store=tmp_path / "a.jsonl")
    s.generation = {"max_new_tokens": 2}
    exp = s.explanation("Interaction_T1_13")
    assert exp.grids[0].kind == "video" and len(exp.images) >= 2
    assert s.result("Interaction_T1_13")["score"] in (0.0, 1.0)
    with pytest.raises(CaseError, match="Prediction_T4_2"):
        s.explanation("Prediction_T4_2")


# -- correctness and suggestions on hand-built records ------------------------------------------------
def _record(answer: list[str], candidates: list[list[str]] | None = None, peak: float | None = None):
    exp = synthetic_record(answer)
    if candidates is not None:
        exp.candidate_texts = candidates
    if peak is not None:
        m = exp.maps["tam"].astype(np.float32)
        exp.maps["tam"] = (m / m.max() * peak).astype(np.float16)
    return exp


def _case(exp, answers, **kw):
    return {
        "id": kw.pop("id", "c"),
        "image": "none.jpg",
        "question": "What is the person holding?",
        "answers": answers,
        "explanation": exp,
        **kw,
    }


def test_correctness_follows_the_users_threshold():
    exp = _record([" cat"])
    s = Study([_case(exp, ["cat"] * 2 + ["dog"] * 8)])
    assert s.result("c")["score"] == pytest.approx(0.6) and s.result("c")["correct"] is True
    s.threshold = 0.7
    assert s.result("c")["correct"] is False and bool(s.cases.correct[0]) is False
    given = Study(
        [
            {
                "id": "p",
                "image": "x.jpg",
                "question": "q?",
                "answers": ["cat"] * 6 + ["kitten"] * 4,
                "prediction": "Kitten.",
            }
        ]
    )  # a model's answer known without a record
    assert given.result("p")["score"] == 1.0 and given.cases.prediction.tolist() == ["Kitten."]
    with pytest.raises(ValueError, match="threshold must be a number in \\[0, 1\\]"):
        s.threshold = 2


def test_suggestion_right_answer_among_the_top3_candidates():
    exp = _record([" pink", " case"], [[" pink", " laptop", " black"], [" case", " bag", " box"]], peak=1.0)
    s = Study([_case(exp, ["laptop"] * 10)])
    (sug,) = [x for x in s.suggestions("c") if x["reason"] == "answer shifted by context"]
    assert sug["token"] == 12 and sug["candidate"] == " laptop" and sug["rank"] == 2
    assert "token ' pink' (index 12): candidate ' laptop' (rank 2, 20%)" in sug["evidence"]
    # not when the right word is generated, nor below the top 3
    exp2 = _record([" pink", " case"], [[" pink", " red", " black", " laptop"], [" case", " bag", " box", " x"]])
    exp2.candidate_ids = np.hstack([exp2.candidate_ids, exp2.candidate_ids[:, :1] + 50])
    exp2.candidate_probs = np.hstack([exp2.candidate_probs, exp2.candidate_probs[:, :1] * 0])
    assert not [
        x
        for x in suggest_reasons(Study([_case(exp2, ["laptop"] * 10)]).case("c"), exp2, "pink case")
        if x["reason"] == "answer shifted by context"
    ]


def test_suggestion_wordnet_relations():
    assert wordnet_relation("dog", "animal")["relation"] == "hyponym"  # more specific than the truth
    assert wordnet_relation("animal", "dog")["relation"] == "hypernym"
    assert wordnet_relation("car", "automobile")["relation"] == "synonym"
    assert wordnet_relation("dog", "dog") is None and wordnet_relation("laptop", "banana") is None
    exp = _record([" dog"], [[" dog", " cat", " puppy"]], peak=1.0)
    s = Study([_case(exp, ["animal"] * 10)])
    (sug,) = s.suggestions("c")
    assert sug["reason"] == "synonym / hypernym / hyponym of the answer" and sug["relation"] == "hyponym"
    assert "'dog' is a WordNet hyponym of 'animal' (dog.n.01 / animal.n.01" in sug["evidence"]


def test_wordnet_off_leaves_the_wordnet_rule_out_and_reads_no_nltk_data(monkeypatch):
    import tam_widgets.studies.suggest as suggest

    exp = _record([" dog"], [[" dog", " cat", " puppy"]], peak=1.0)
    monkeypatch.setattr(suggest, "_synsets", lambda phrase: pytest.fail("WordNet was read"))
    s = Study([_case(exp, ["animal"] * 10)], wordnet=False)
    assert s.result("c")["correct"] is False and s.suggestions("c") == []


def test_suggestion_low_peak_activation_of_the_answer_words():
    weak = Study([_case(_record([" banana"], [[" banana", " x", " y"]], peak=0.2), ["laptop"] * 10)])
    (sug,) = weak.suggestions("c")
    assert sug["reason"] == "weak vision-text alignment" and sug["peaks"] == {12: pytest.approx(0.2, abs=1e-3)}
    assert "peak below 0.3: ' banana' 0.20" in sug["evidence"]
    strong = Study([_case(_record([" banana"], [[" banana", " x", " y"]], peak=0.9), ["laptop"] * 10)])
    assert strong.suggestions("c") == []
    assert Study([_case(_record([" banana"], peak=0.2), ["laptop"] * 10)], low_peak=0.1).suggestions("c") == []


def test_study_settings_and_lookups_are_checked():
    case = _case(_record([" dog"]), ["dog"] * 10)
    with pytest.raises(ValueError, match="low_peak must be a number in \\[0, 1\\]"):
        Study([case], low_peak=2)
    with pytest.raises(KeyError, match="no case 'nope' in this study \\(ids: 'c'"):
        Study([case]).case("nope")
    with pytest.raises(TypeError, match="a case is a Case or a dict, got str"):
        Study(["c"])


def test_a_right_answer_gets_no_suggestions():
    s = Study([_case(_record([" dog"], [[" dog", " animal", " y"]], peak=0.1), ["dog"] * 10)])
    assert s.result("c")["correct"] is True and s.suggestions("c") == []


def test_annotating_a_token_checks_it_against_the_record(tmp_path):
    exp = _record([" pink", " case"])
    s = Study([_case(exp, ["laptop"] * 10)], store=tmp_path / "a.jsonl")
    assert s.annotate("c", token=-2)["token"] == len(exp.tokens) - 2
    with pytest.raises(IndexError, match="out of range"):
        s.annotate("c", token=99)


# -- the paper-style figure ------------------------------------------------------------------------------
def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


def test_case_figure_shows_picture_map_question_answer_candidates_truth_reason_and_note(tmp_path):
    pink = _record([" pink", " case"], [[" pink", " laptop", " black"], [" case", " bag", " box"]], peak=1.0)
    pink.metadata["untrained"] = True
    dog = _record([" dog"], [[" dog", " cat", " puppy"]], peak=1.0)
    s = Study(
        [_case(pink, ["laptop"] * 10, id="pink"), _case(dog, ["animal"] * 10, id="dog")], store=tmp_path / "a.jsonl"
    )
    s.annotate("pink", reason="answer shifted by context", note="says the case, not the laptop")
    fig = s.figure(["pink", "dog"])
    text = _texts(fig)
    for part in [
        "What is the person holding?",
        "pink case (score 0.00, failed)",
        "' pink' 70%",
        "' laptop' 20%",
        "laptop ×10",
        "answer shifted by context",
        "says the case, not the laptop",
        "untrained model",
        "TAM of ' pink'",
        "TAM of ' dog'",
        "animal ×10",
    ]:
        assert part in text, part
    assert len([ax for ax in fig.axes if ax.images]) == 2
    assert "Colour: TAM activation: 0 = none" in "\n".join(t.get_text() for t in fig.texts)
    clip = synthetic_record([" dog"], frames=4)
    star_case = {
        "id": "s",
        "video": "v.mp4",
        "question": "Which?",
        "choices": ["The dog.", "The cat."],
        "answer": "The cat.",
    }
    text = _texts(Study([{**star_case, "explanation": clip}]).figure(["s"], method="cam"))
    assert (
        "CAM (baseline) of ' dog' (token 12), frame 3 of 4" in text and "Ground truth:" in text and "The cat." in text
    )
    # the annotated token is drawn when set
    s.annotate("pink", token=13)
    assert "TAM of ' case'" in _texts(s.figure(["pink"]))
    png, pdf = s.export_figure(["pink"], tmp_path / "f.png"), s.export_figure(["dog"], tmp_path / "f.pdf")
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match=r"\.png or \.pdf"):
        s.export_figure(["pink"], tmp_path / "f.svg")
    with pytest.raises(ValueError, match="no case to draw"):
        s.figure([])
    no_record = Study([{"id": "n", "image": "x.jpg", "question": "q?", "answers": ["a"]}])
    with pytest.raises(ValueError, match="no record yet and the study has no explainer"):
        no_record.figure(["n"])
    assert Token  # the record's token type is what annotate(token=) indexes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.cases  # noqa: B018 - builds without warnings


def test_precompute_in_batches_caches_the_records_of_one_at_a_time(tiny, photo_cases, tmp_path, monkeypatch):
    from skimage import data

    from tests.test_explain_batch import assert_same_record

    cases = [*photo_cases, {"id": "cat", "image": data.chelsea()[::5, ::5], "question": "What animal is it?",
                            "answers": ["cat"] * 10}]
    gen = {"max_new_tokens": 3}
    alone = Study(cases, explainer=tiny, store=tmp_path / "one" / "a.jsonl", generation=gen)
    with pytest.warns(UserWarning, match="1 case"):
        assert alone.precompute(progress=False, batch_size=1) == {"computed": 3, "cached": 0, "failed": 1}
    batched = Study(cases, explainer=tiny, store=tmp_path / "many" / "a.jsonl", generation=gen)
    batched.explanation("ok")  # cached before: skipped
    sizes: list[int] = []
    generate = tiny.model.generate

    def counting(**kw):
        sizes.append(int(kw["input_ids"].shape[0]))
        return generate(**kw)

    monkeypatch.setattr(tiny.model, "generate", counting)
    with pytest.warns(UserWarning, match="1 case"):
        counts = batched.precompute(progress=False, batch_size=4, workers=1)
    assert counts == {"computed": 2, "cached": 1, "failed": 1} and sizes == [2]  # "two" and "cat" together
    for cid in ("ok", "two", "cat"):
        a = tw.Explanation.load(alone.record_path(cid))
        b = tw.Explanation.load(batched.record_path(cid))
        assert_same_record(a, b)
    assert batched.result("cat") == alone.result("cat")


def test_precompute_batch_size(tiny, photo_cases, tmp_path):
    from tam_widgets.studies import auto_batch_size

    assert auto_batch_size(tiny) == 1  # on a CPU
    small = auto_batch_size(tiny, {"max_new_tokens": 64}, free_bytes=2**24)
    assert 1 <= small < auto_batch_size(tiny, {"max_new_tokens": 64}, free_bytes=2**30) <= 64
    s = Study(photo_cases[::2], explainer=Counting(tiny), store=tmp_path / "a.jsonl", generation={"max_new_tokens": 2})
    for bad in (0, "big", 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be"):
            s.precompute(progress=False, batch_size=bad)
    # an explainer without explain_batch (a wrapper) runs one at a time and says so, once
    with pytest.warns(RuntimeWarning, match="one case at a time: this explainer \\(Counting\\) has no explain_batch"):
        assert s.precompute(progress=False, batch_size=8) == {"computed": 2, "cached": 0, "failed": 0}
    sampled = Study(photo_cases[::2], explainer=tiny, store=tmp_path / "b" / "a.jsonl",
                    generation={"max_new_tokens": 2, "do_sample": True})
    with pytest.warns(RuntimeWarning, match="one case at a time: sampling") as caught:
        sampled.precompute(progress=False, batch_size=8)
    assert len([w for w in caught if "one case at a time" in str(w.message)]) == 1


def test_an_interrupted_batched_precompute_resumes_without_recomputing(tiny, photo_cases, tmp_path, monkeypatch):
    from skimage import data

    cases = [{"id": f"c{k}", "image": data.coffee()[:: 6 + k, :: 8 + k], "question": f"What is it? ({k})",
              "answers": ["coffee"] * 10} for k in range(5)]
    gen = {"max_new_tokens": 2}
    s = Study(cases, explainer=tiny, store=tmp_path / "a.jsonl", generation=gen)
    batches: list[list[str]] = []
    compute = Study._compute_many

    def killed_after_one_batch(self, batch, pictures):
        if batches:
            raise KeyboardInterrupt  # the kernel is interrupted while the second batch runs
        batches.append([c.id for c in batch])
        return compute(self, batch, pictures)

    monkeypatch.setattr(Study, "_compute_many", killed_after_one_batch)
    with pytest.raises(KeyboardInterrupt):
        s.precompute(progress=False, batch_size=2, workers=1)
    monkeypatch.setattr(Study, "_compute_many", compute)
    assert batches == [["c0", "c1"]] and [s.cached(c["id"]) for c in cases] == [True, True, False, False, False]
    again = Study(cases, explainer=Counting(tiny), store=tmp_path / "a.jsonl", generation=gen)
    assert again.precompute(progress=False, batch_size=1) == {"computed": 3, "cached": 2, "failed": 0}
    assert again.explainer.calls == ["What is it? (2)", "What is it? (3)", "What is it? (4)"]
