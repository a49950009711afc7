"""Word grouping: the official rules (re-tokenised, EOS glued, punctuation substring, CJK) and the default ones."""

from __future__ import annotations

from tam_widgets.metrics.words import default_words, is_cjk, official_words

from .conftest import encode


def _pairs(words):
    return [(w.text, w.tokens) for w in words]


def test_official_glues_eos_to_the_last_word(word_tok):
    ids = encode(word_tok, "A cat sitting on a skateboard with a dog .")
    words = official_words(ids, word_tok)
    assert [w.text for w in words] == "A cat sitting on a skateboard with a dog .<|im_end|>".split()
    assert words[-1].tokens == (9, 10) and words[-1].tokens[-1] == len(ids) - 1


def test_default_leaves_special_tokens_out(word_tok):
    ids = encode(word_tok, "A cat sitting on a skateboard with a dog .")
    words = default_words(ids, word_tok)
    assert words[-1].text == "." and words[-1].tokens == (9,)
    assert all(len(ids) - 1 not in w.tokens for w in words)


def test_multi_token_words_byte_level(bpe_tok):
    ids = encode(bpe_tok, "A cat sitting on a skateboard with a dog .")
    pieces = bpe_tok.convert_ids_to_tokens(ids)
    assert len(ids) > 11  # "skateboard" is not in the tiny vocabulary: several tokens
    for words in (official_words(ids, bpe_tok), default_words(ids, bpe_tok)):
        sk = next(w for w in words if w.text == "skateboard")
        assert len(sk.tokens) > 1 and pieces[sk.tokens[0]] == "\u0120s"
    # the space before "." is a token of its own: official makes it an empty word, default drops it
    assert ("", (17,)) in _pairs(official_words(ids, bpe_tok))
    assert "" not in [w.text for w in default_words(ids, bpe_tok)]


def test_official_punctuation_is_a_substring_test(bpe_tok):
    ids = encode(bpe_tok, "a well-known cat")
    off = [w.text for w in official_words(ids, bpe_tok)]
    assert off == ["a", "well", "-known", "cat<|im_end|>"]  # "-" starts a word and "known" is glued to it
    assert [w.text for w in default_words(ids, bpe_tok)] == ["a", "well", "-", "known", "cat"]


def test_cjk(word_tok, bpe_tok):
    assert is_cjk("猫") and not is_cjk("cat") and not is_cjk("\u3002")  # the official test: 'CJK' in the name
    ids = encode(word_tok, "A 猫 cat")
    assert [w.text for w in default_words(ids, word_tok)] == ["A", "猫", "cat"]
    ids = encode(bpe_tok, "A 猫 cat")  # three byte tokens: default decodes them together
    assert [w.text for w in default_words(ids, bpe_tok)] == ["A", "猫", "cat"]


def test_official_word_indices_follow_the_retokenised_text(bpe_tok):
    canonical = encode(bpe_tok, "a cat")
    split = bpe_tok.convert_tokens_to_ids(["a", "\u0120", "c", "a", "t"]) + [bpe_tok.eos_token_id]
    assert bpe_tok.decode(split) == bpe_tok.decode(canonical)
    off = official_words(split, bpe_tok)
    assert off[-1].tokens[-1] == len(canonical) - 1 != len(split) - 1  # the skip rule will fire
    assert [w.text for w in default_words(split, bpe_tok)] == ["a", "cat"]


def test_empty(word_tok):
    assert default_words([], word_tok) == [] and default_words([word_tok.eos_token_id], word_tok) == []
    assert [w.text for w in official_words([word_tok.eos_token_id], word_tok)] == ["<|im_end|>"]
