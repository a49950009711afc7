"""Word grouping, covering and cross-tokenizer word alignment (tam_widgets.words)."""

from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.record import Token
from tam_widgets.words import align_words, cover_words, group_words, normalize_word


def _tokens(texts: list[str], role: str = "answer") -> list[Token]:
    return [Token(t, i, role, 0, i) for i, t in enumerate(texts)]


def _texts(tokens: list[Token], words: np.ndarray) -> list[str]:
    return ["".join(tokens[i].text for i in range(s, e)) for s, e in words.tolist()]


def test_group_words_starts_at_spaces_punctuation_roles_and_specials():
    tokens = [
        Token("<|im_start|>", 1, "special", 0, 0),
        Token("Desc", 2, "prompt", 0, 1),
        Token("ribe", 3, "prompt", 0, 2),
        Token(" it", 4, "prompt", 0, 3),
        Token("<|im_end|>", 5, "special", 0, 4),
        Token("A", 6, "answer", 0, 5),
        Token(" ca", 7, "answer", 0, 6),
        Token("t", 8, "answer", 0, 7),
        Token(".", 9, "answer", 0, 8),
        Token("▁Then", 10, "answer", 1, 9),
    ]
    words = group_words(tokens)
    assert words.dtype == np.int64 and words.shape == (8, 2)
    assert _texts(tokens, words) == ["<|im_start|>", "Describe", " it", "<|im_end|>", "A", " cat", ".", "▁Then"]
    assert group_words([]).shape == (0, 2)


def test_cover_words_fills_gaps_with_one_token_words():
    assert cover_words(np.array([[1, 3], [4, 6]]), 8) == [(0, 1), (1, 3), (3, 4), (4, 6), (6, 7), (7, 8)]
    assert cover_words(np.zeros((0, 2), np.int64), 2) == [(0, 1), (1, 2)]


def test_old_import_paths_still_work():
    from tam_widgets import explain, record

    assert record.cover_words is cover_words and explain.group_words is group_words


def test_normalize_word():
    assert normalize_word("▁Hello,") == "hello" == normalize_word(" HELLO!")
    assert normalize_word(" ...") == "..." and normalize_word("\n") == ""
    assert normalize_word("don't") == "don't"  # inner punctuation stays


def test_align_identical():
    words = ["A", " cat", " sits", "."]
    assert align_words(words, words) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert align_words([], []) == []


def test_align_insertions_and_deletions():
    a = ["A", " cat", " sits", "."]
    assert align_words(a, ["A", " black", " cat", " sits", "."]) == [(0, 0), (None, 1), (1, 2), (2, 3), (3, 4)]
    assert align_words(a, ["A", " sits", "."]) == [(0, 0), (1, None), (2, 1), (3, 2)]
    assert align_words(a, []) == [(0, None), (1, None), (2, None), (3, None)]
    assert align_words([], ["x"]) == [(None, 0)]
    # a replaced word: a's word first, then b's
    assert align_words(["A", " cat", "."], ["A", " dog", "."]) == [(0, 0), (1, None), (None, 1), (2, 2)]


def test_align_never_matches_blank_words_and_covers_everything():
    pairs = align_words(["A", " ", "b"], ["a", " ", "B", " c"])
    assert pairs == [(0, 0), (1, None), (None, 1), (2, 2), (None, 3)]
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = [str(x) for x in rng.integers(0, 4, rng.integers(0, 8))]
        b = [str(x) for x in rng.integers(0, 4, rng.integers(0, 8))]
        pairs = align_words(a, b)
        assert [i for i, _ in pairs if i is not None] == list(range(len(a)))
        assert [j for _, j in pairs if j is not None] == list(range(len(b)))
        matched = [(i, j) for i, j in pairs if i is not None and j is not None]
        assert all(a[i] == b[j] for i, j in matched)
        # as long as a longest common subsequence
        lcs = np.zeros((len(a) + 1, len(b) + 1), int)
        for i in range(len(a)):
            for j in range(len(b)):
                lcs[i + 1, j + 1] = lcs[i, j] + 1 if a[i] == b[j] else max(lcs[i, j + 1], lcs[i + 1, j])
        assert len(matched) == lcs[-1, -1]


@pytest.fixture(scope="module")
def tokenizers():
    from transformers import AutoProcessor

    from tam_widgets.testing import tiny_model

    return {f: AutoProcessor.from_pretrained(tiny_model(f)).tokenizer for f in ("qwen2_vl", "llava")}


def test_align_the_same_sentence_from_two_tokenizers(tokenizers):
    """Byte-level BPE (Qwen2) and SentencePiece (Llama) split one sentence differently; the words align."""
    from tam_widgets.explain import token_texts

    sentence = "The red cat sat on the mat, near two small dogs."
    words, pieces = {}, {}
    for family, tok in tokenizers.items():
        ids = np.array(tok(sentence, add_special_tokens=False)["input_ids"])
        pieces[family] = token_texts(tok, ids)
        tokens = _tokens(pieces[family])
        words[family] = _texts(tokens, group_words(tokens))
    assert pieces["qwen2_vl"] != pieces["llava"]  # the two tokenizations differ
    qwen, llava = words["qwen2_vl"], words["llava"]
    assert qwen[-2:] == [" dogs", "."] and llava[-1] == " dogs."  # Llama's "s." token glues the full stop on
    pairs = align_words(qwen, llava)
    assert pairs == [*((k, k) for k in range(12)), (12, None)]  # every word matched but Qwen's lone "."
    assert [normalize_word(qwen[i]) for i, j in pairs[:-1]] == [normalize_word(llava[j]) for i, j in pairs[:-1]]
