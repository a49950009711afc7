"""The NLTK-missing error: which two packages, how to install them; one download attempt without NLTK_DATA."""

from __future__ import annotations

import nltk
import pytest

from tam_widgets.metrics import NLTKDataMissing, ensure_nltk_data, nlp, score_caption


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty NLTK search path and fresh resource state (restored afterwards)."""
    monkeypatch.setattr(nlp, "_STATE", dict(ready=False, download_tried=False, tagger=None, lemmatizer=None))
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    return tmp_path


def _check_message(err: NLTKDataMissing) -> None:
    msg = str(err)
    assert "'averaged_perceptron_tagger_eng' and 'wordnet'" in msg
    assert "python -m nltk.downloader averaged_perceptron_tagger_eng wordnet" in msg
    assert "NLTK_DATA" in msg


def test_missing_with_nltk_data_set(no_data, monkeypatch, word_tok):
    monkeypatch.setenv("NLTK_DATA", str(no_data))

    def download(*a, **k):
        raise AssertionError("no download when NLTK_DATA is set")

    monkeypatch.setattr(nltk, "download", download)
    with pytest.raises(NLTKDataMissing) as e:
        ensure_nltk_data()
    _check_message(e.value)
    assert "missing: averaged_perceptron_tagger_eng, wordnet" in str(e.value)
    with pytest.raises(NLTKDataMissing):  # what the user meets first
        score_caption([[[0]]], [word_tok.eos_token_id], word_tok, [[0]], {"cat": 17})


def test_missing_without_nltk_data_tries_one_download(no_data, monkeypatch):
    monkeypatch.delenv("NLTK_DATA", raising=False)
    calls = []

    def download(package, **kw):
        calls.append(package)
        raise ValueError("no network")

    monkeypatch.setattr(nltk, "download", download)
    for _ in range(2):
        with pytest.raises(NLTKDataMissing) as e:
            ensure_nltk_data()
        _check_message(e.value)
    assert calls == ["averaged_perceptron_tagger_eng", "wordnet"]  # once, both packages


def test_successful_download(no_data, monkeypatch):
    monkeypatch.delenv("NLTK_DATA", raising=False)

    def download(package, **kw):
        sub = {"averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng", "wordnet": "corpora/wordnet"}
        (no_data / sub[package]).mkdir(parents=True)
        return True

    monkeypatch.setattr(nltk, "download", download)
    ensure_nltk_data()
    assert nlp._STATE["ready"]
