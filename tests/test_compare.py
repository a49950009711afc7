"""The comparison's logic: what is comparable, words aligned across tokenisations, the summary line, tw.compare."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from tam_widgets.compare import (
    align_answers,
    answer_words,
    check_comparable,
    comparison,
    default_labels,
    model_summary,
    otsu_share,
)
from tam_widgets.testing.comparisons import model_records
from tam_widgets.testing.records import synthetic_record


def words_of(exp, rng):
    return None if rng is None else "".join(t.text for t in exp.tokens[rng[0]:rng[1]])


def table(exps):
    """The alignment as rows of each model's word text (None: absent)."""
    al = align_answers(exps)
    return [[words_of(e, r) for e, r in zip(exps, row)] for row in al.ranges]


# -- alignment ---------------------------------------------------------------------------------------------------------


def test_a_word_split_differently_by_each_model_is_one_aligned_word():
    exps = model_records([
        [" A", " black", " cat", "."],
        [" a", " bl", "ack", " ca", "t", "."],
        [" A", " b", "la", "ck", " c", "at", "."],
    ])
    assert table(exps) == [
        [" A", " a", " A"], [" black", " bl" + "ack", " b" + "la" + "ck"], [" cat", " ca" + "t", " c" + "at"],
        [".", ".", "."],
    ]
    al = align_answers(exps)
    # the word's map is its first token's (the step at which the model chose the word)
    assert al.tokens[1] == [13, 13, 13] and al.tokens[2] == [14, 15, 16]
    assert al.keys == ["a", "black", "cat", "."]


def test_a_word_missing_from_one_answer_is_absent_there_never_matched_to_another():
    exps = model_records([
        [" A", " black", " cat", " sits", "."],
        [" A", " cat", " sits", "."],
        [" The", " dog", " sits", "."],
    ])
    rows = table(exps)
    assert [" black", None, None] in rows
    assert [" cat", " cat", None] in rows
    assert [None, None, " dog"] in rows and [None, None, " The"] in rows
    assert [" sits", " sits", " sits"] in rows
    # every word of every answer appears exactly once, in reading order
    for m, exp in enumerate(exps):
        col = [r[m] for r in align_answers(exps).ranges if r[m] is not None]
        assert col == answer_words(exp)


def test_repeated_words_are_matched_once_per_occurrence_in_order():
    exps = model_records([
        [" the", " cat", " and", " the", " dog", " and", " the", " cat"],
        [" the", " dog", " and", " the", " cat"],
    ])
    al = align_answers(exps)
    pairs = [(r[0], r[1]) for r in al.ranges]
    matched = [(a, b) for a, b in pairs if a is not None and b is not None]
    assert len(matched) == 5  # "the dog and the cat" is a subsequence of the first answer
    # matches keep reading order in both answers and pair equal words only
    assert [a for a, _ in matched] == sorted(a for a, _ in matched)
    assert [b for _, b in matched] == sorted(b for _, b in matched)
    for a, b in matched:
        assert words_of(exps[0], a).strip() == words_of(exps[1], b).strip()
    assert sum(r[1] is None for r in al.ranges) == 3 and al.keys.count("the") == 3


def test_case_punctuation_and_sentencepiece_marks_are_normalised_blank_words_left_out():
    exps = model_records([["▁The", "▁Cat", ",", "\n", " sat"], [" the", " cat,", " sat"]])
    assert table(exps) == [["▁The", " the"], ["▁Cat", " cat,"], [",", None], [" sat", " sat"]]


def test_alignment_of_three_512_token_answers_is_fast():
    import time

    rng = np.random.default_rng(0)
    vocab = [f" w{k}" for k in range(60)]
    answers = [[vocab[i] for i in rng.integers(0, 60, 512)] for _ in range(3)]
    exps = model_records(answers, grid=(2, 2), image_size=(8, 8))
    t = time.perf_counter()
    al = align_answers(exps)
    took = time.perf_counter() - t
    assert len(al) >= 512 and took < 5  # the benchmark reports the real number (budget 20 ms)


# -- what is comparable ------------------------------------------------------------------------------------------------


def test_different_pictures_are_refused_naming_what_differs():
    a = synthetic_record()
    with pytest.raises(ValueError, match="picture 1 differs in its pixels"):
        check_comparable([a, synthetic_record(seed=3)])
    with pytest.raises(ValueError, match=r"'x' and 'y' show different pictures: picture 1 is 128x96 vs 64x48"):
        check_comparable([a, synthetic_record(image_size=(48, 64))], ["x", "y"])
    with pytest.raises(ValueError, match="1 vs 2 pictures"):
        check_comparable([a, synthetic_record(n_images=2)])


def test_different_prompts_are_refused_unless_allowed():
    a = synthetic_record()
    b = dataclasses.replace(synthetic_record(), metadata={"prompts": ["What colour is the cat?"]})
    a = dataclasses.replace(a, metadata={"prompts": ["Describe the image."]})
    with pytest.raises(ValueError, match=r"answer different prompts: \['Describe the image.'\] vs \['What colour.*"
                                         r"allow_different_prompts=True"):
        check_comparable([a, b])
    check_comparable([a, b], allow_different_prompts=True)


def test_wrong_inputs_get_clear_errors():
    a = synthetic_record()
    with pytest.raises(TypeError, match="must be a list of Explanation"):
        check_comparable(a)
    with pytest.raises(TypeError, match=r"explanations\[1\] is a str.*Explanation.load"):
        check_comparable([a, "b.tam"])
    with pytest.raises(ValueError, match="2 to 8 explanations, got 1"):
        check_comparable([a])
    with pytest.raises(ValueError, match="2 non-empty strings"):
        default_labels([a, a], ["only one"])
    with pytest.raises(TypeError, match="list of 2 strings"):
        default_labels([a, a], "ab")
    b = dataclasses.replace(synthetic_record(methods=("cam",)))
    with pytest.raises(ValueError, match="share no map kind"):
        comparison([synthetic_record(methods=("tam",)), b])


def test_default_labels_are_unique_model_names():
    exps = model_records([[" a"], [" a"], [" a"]])
    assert default_labels(exps) == ["Qwen2-VL-2B-Instruct", "InternVL3-1B-hf", "llava-1.5-7b-hf"]
    assert default_labels([synthetic_record()] * 3) == ["record", "record (2)", "record (3)"]


# -- summary -----------------------------------------------------------------------------------------------------------


def test_otsu_share_counts_the_bright_cells():
    row = np.zeros(100)
    row[:7] = 1.0
    assert otsu_share(row) == pytest.approx(0.07)
    assert otsu_share(np.ones(10)) == 0.0


def test_summary_line_per_model(monkeypatch):
    exps = model_records([[" A", " cat", " on", " a", " table"], [" The", " dog", " on", " the", " table"]])
    cmp = comparison(exps, ["m1", "m2"])
    al = cmp.alignment
    cat = al.find("cat")
    nouns = [k in ("cat", "dog", "table") for k in al.keys]
    s = model_summary(exps[0], al, 0, cat, "tam", nouns)
    row = int(np.flatnonzero(exps[0].explained == al.tokens[cat][0])[0])
    assert s["answer"] == "A cat on a table" and s["object_words"] == ["cat", "table"]
    peaks = [float(exps[0].maps["tam"][r].astype(np.float32).max()) for r in (1, 4)]
    assert s["mean_peak"] == pytest.approx(np.mean(peaks))
    assert s["otsu_share"] == pytest.approx(otsu_share(exps[0].maps["tam"][row].astype(np.float32)))
    assert [c[0] for c in s["candidates"]] == [" cat", " dog", " <b>"]
    absent = model_summary(exps[1], al, 1, cat, "tam", nouns)
    assert absent["token"] is None and absent["otsu_share"] is None and absent["candidates"] == []
    assert absent["object_words"] == ["dog", "table"]


def test_object_words_come_from_the_pos_tagger():
    exps = model_records([[" A", " cat", " on", " a", " table"], [" The", " dog", " on", " the", " table"]])
    summaries = comparison(exps).summaries()
    assert summaries[0]["nouns_known"] is True
    assert summaries[0]["object_words"] == ["cat", "table"] and summaries[1]["object_words"] == ["dog", "table"]
    assert set(summaries[0]["mean_peak"]) == {"tam", "cam", "eci_only", "filter_only"}


def test_start_word_is_the_first_word_every_model_said():
    exps = model_records([[" A", " cat", " sits"], [" The", " cat", " sits"]])
    assert comparison(exps).start_word() == comparison(exps).alignment.find("cat")


# -- compare() without models ------------------------------------------------------------------------------------------


def test_compare_module_imports_without_torch():
    code = (
        "import sys; import tam_widgets as tw; import tam_widgets.compare as c; "
        "assert callable(tw.compare) and tw.CompareView; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compare_refuses_bad_arguments_before_loading_anything():
    import tam_widgets as tw

    with pytest.raises(TypeError, match="list of model ids"):
        tw.compare("Qwen/Qwen2-VL-2B-Instruct", image=np.zeros((8, 8, 3), np.uint8), prompt="Describe.")
    with pytest.raises(ValueError, match="2 to 8 models, got 1"):
        tw.compare(["a"], image=np.zeros((8, 8, 3), np.uint8), prompt="Describe.")
    with pytest.raises(ValueError, match="prompt must be a non-empty string"):
        tw.compare(["a", "b"], image=np.zeros((8, 8, 3), np.uint8), prompt=" ")
    with pytest.raises(ValueError, match="no picture to explain"):
        tw.compare(["a", "b"], prompt="Describe.")
    with pytest.raises(ValueError, match="2 non-empty strings"):
        tw.compare(["a", "b"], image=np.zeros((8, 8, 3), np.uint8), prompt="Describe.", labels=["x"])


# -- compare() with tiny models of three families ---------------------------------------------------------------------


class ForceAnswer:
    """A logits processor that makes a model answer ``ids`` and then ``eos`` (tiny models' weights are random)."""

    def __init__(self, ids: list[int], eos: int) -> None:
        self.ids, self.eos, self.start, self.last = list(ids), eos, None, None

    def __call__(self, input_ids, scores):
        import torch

        n = input_ids.shape[1]
        if self.start is None or n < self.last:  # a new generation
            self.start = n
        self.last = n
        k = n - self.start
        out = torch.full_like(scores, -1e9)
        out[:, self.ids[k] if k < len(self.ids) else self.eos] = 0
        return out


TINY_ANSWERS = {
    "qwen2_vl": " a black cat on the table",
    "internvl": " the cat sits on a table",
    "llava": " a cat on the red table",
}


def forced_explainer(family: str, text: str):
    import tam_widgets as tw
    from tam_widgets.testing import tiny_model

    ex = tw.load(str(tiny_model(family)))
    eos = ex.model.generation_config.eos_token_id
    eos = eos[0] if isinstance(eos, list) else eos
    ex.generation["logits_processor"] = [ForceAnswer(ex.adapter.tokenizer.encode(text, add_special_tokens=False), eos)]
    return ex


def test_compare_three_families_aligns_their_words(tmp_path):
    import tam_widgets as tw
    from tam_widgets.testing.records import picture

    explainers = [forced_explainer(f, t) for f, t in TINY_ANSWERS.items()]
    view = tw.compare(explainers, image=picture(96, 128), prompt="Describe the image.", max_new_tokens=12,
                      progress=False)
    exps = view.comparison.explanations
    assert [e.answer.strip() for e in exps] == [t.strip() for t in TINY_ANSWERS.values()]
    assert all(e.metadata["generation"]["max_new_tokens"] == 12 for e in exps)  # settings reach every model
    assert [e.metadata["model_type"] for e in exps] == ["qwen2_vl", "internvl", "llava"]
    rows = table(exps)
    assert [" cat", " cat", " cat"] in rows and [" table", " table", " table"] in rows
    assert [" black", None, None] in rows and [None, None, " red"] in rows
    assert [None, " sit" + "s", None] in rows  # InternVL's tokenizer splits "sits"
    al = view.alignment
    assert al.keys[view.word] == "cat" and all(t is not None for t in al.tokens[al.find("cat")])
    assert view.to_html(tmp_path / "tiny.html").stat().st_size > 10_000


def test_compare_frees_each_model_before_loading_the_next(monkeypatch, capsys):
    import gc
    import sys
    import weakref

    import tam_widgets as tw
    import tam_widgets.explain as explain_module
    from tam_widgets.testing import tiny_model
    from tam_widgets.testing.records import picture

    compare_module = sys.modules["tam_widgets.compare"]  # tw.compare is the function
    families = ["qwen2_vl", "internvl", "llava"]
    paths = [str(tiny_model(f)) for f in families]
    real_load = explain_module.load
    loaded: list[weakref.ref] = []
    alive_at_load: list[int] = []
    freed: list[bool] = []

    def load(model_id, **kw):
        gc.collect()
        alive_at_load.append(sum(r() is not None for r in loaded))
        ex = real_load(model_id, **kw)
        loaded.append(weakref.ref(ex.model))
        return ex

    real_free = compare_module._free
    monkeypatch.setattr(explain_module, "load", load)
    monkeypatch.setattr(compare_module, "_free", lambda: (real_free(), freed.append(True)))
    view = tw.compare(paths, image=picture(96, 128), prompt="Describe the image.", max_new_tokens=2)
    assert alive_at_load == [0, 0, 0] and len(freed) == 3  # never two models resident
    assert "compare" in capsys.readouterr().err  # the progress bar
    assert view.comparison.labels == [p.rsplit("/", 1)[-1] for p in paths]

    loaded.clear()
    alive_at_load.clear()
    kept = tw.compare(paths, image=picture(96, 128), prompt="Describe the image.", max_new_tokens=2, keep=True,
                      progress=False, labels=["q", "i", "l"])
    assert alive_at_load == [0, 1, 2] and len(kept.explainers) == 3  # keep=True: all stay loaded
    assert kept.comparison.labels == ["q", "i", "l"]


def test_a_failing_model_keeps_the_explanations_before_it(tmp_path, monkeypatch):
    """The third model fails (out of memory, say): the first two explanations are in the error, nothing is lost, and
    the failed model is freed."""
    import tam_widgets as tw
    from tam_widgets.compare import CompareError
    from tam_widgets.explain import Explainer
    from tam_widgets.testing import tiny_model
    from tam_widgets.testing.records import picture

    paths = [str(tiny_model(f)) for f in ("qwen2_vl", "llava")]
    real = Explainer.explain
    calls = []

    def explain(self, *a, **kw):
        calls.append(self.model_id)
        if len(calls) == 3:
            raise MemoryError("CUDA out of memory (simulated)")
        return real(self, *a, **kw)

    monkeypatch.setattr(Explainer, "explain", explain)
    said = r"model 3 of 3 .* MemoryError: CUDA out of memory .* 2 explanation\(s\)"
    with pytest.raises(CompareError, match=said) as e:
        tw.compare([*paths, paths[0]], image=picture(96, 128), prompt="Describe the image.", max_new_tokens=2,
                   progress=False, labels=["a", "b", "c"])
    err = e.value
    assert isinstance(err.__cause__, MemoryError) and err.failed == paths[0]
    assert [x.metadata["model_id"] for x in err.explanations] == paths and err.labels == ["a", "b"]
    view = tw.CompareView(err.explanations, labels=err.labels)  # what the message suggests works
    assert view.comparison.labels == ["a", "b"]
    err.explanations[0].save(tmp_path / "a.tam")
    assert tw.Explanation.load(tmp_path / "a.tam").tokens == err.explanations[0].tokens


# -- the command line --------------------------------------------------------------------------------------------------


def test_cli_compare_writes_one_offline_page(tmp_path, capsys):
    from tam_widgets.cli import main

    paths = []
    for k, exp in enumerate(model_records([[" A", " cat", "."], [" The", " cat", "."], [" a", " dog", "."]])):
        paths.append(str(exp.save(tmp_path / f"m{k}.tam")))
    out = tmp_path / "out" / "cmp.html"
    assert main(["compare", *paths, "--labels", "Q", "I", "L", "--html", str(out), "--word", "cat",
                 "--scale", "shared"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    html = out.read_text(encoding="utf-8")
    assert '"view":"compare"' in html and '"labels":["Q","I","L"]' in html and '"scale":"shared"' in html


def test_cli_compare_refuses_bad_input_with_one_line(tmp_path, capsys):
    from tam_widgets.cli import main

    a, b = model_records([[" A", " cat"], [" The", " cat"]])
    pa, pb = str(a.save(tmp_path / "a.tam")), str(b.save(tmp_path / "b.tam"))
    other = str(synthetic_record(seed=5).save(tmp_path / "other.tam"))
    (tmp_path / "bad.tam").write_bytes(b"not a record")
    cases = [
        ([pa, pb, "--labels", "x", "--html", str(tmp_path / "o.html")], "--labels takes one name per record"),
        ([pa, other, "--html", str(tmp_path / "o.html")], "show different pictures"),
        ([pa, str(tmp_path / "missing.tam"), "--html", str(tmp_path / "o.html")], "missing.tam"),
        ([pa, str(tmp_path / "bad.tam"), "--html", str(tmp_path / "o.html")], "error: "),
        ([pa, pb, "--word", "zebra", "--html", str(tmp_path / "o.html")], "no model said it"),
        ([pa, "--html", str(tmp_path / "o.html")], "2 to 8 explanations"),
    ]
    for argv, message in cases:
        assert main(["compare", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err, err
    assert not (tmp_path / "o.html").exists()


def test_without_the_taggers_data_the_summary_says_so_and_nothing_is_downloaded(monkeypatch):
    import nltk

    from tam_widgets.compare import object_words

    def missing(resource, *a, **k):
        raise LookupError(resource)

    monkeypatch.setattr(nltk.data, "find", missing)
    monkeypatch.setattr(nltk, "download", lambda *a, **k: pytest.fail("a comparison must not download"))
    assert object_words([" a", " cat"]) is None
    s = comparison(model_records([[" a", " cat"], [" the", " cat"]])).summaries()
    assert s[0]["nouns_known"] is False and s[0]["mean_peak"]["tam"] is None
