"""Grouping generated tokens into words, the official way and the default way.

``official_words`` follows the paper's script: decode the ids with special tokens kept, re-tokenise the text, and
start a new word at the first token, at a token whose decoded text starts with a space, whose raw piece starts with
``▁``, whose text is a substring of ``string.punctuation`` (the empty string included), or which holds a CJK
character; any other token is appended to the previous word, spaces removed. The returned token indices refer to
the *re-tokenised* sequence.

``default_words`` works on the generated ids themselves (indices always match the maps), leaves special tokens out
of every word, makes a punctuation-only token a word of its own (the next token starts a new word), and decodes a
word's ids together (so multi-byte characters split over byte-level tokens come out right).

>>> from tokenizers import Tokenizer, models, pre_tokenizers, decoders
>>> from transformers import PreTrainedTokenizerFast
>>> vocab = {w: i for i, w in enumerate(["<unk>", "<|im_end|>", "▁A", "▁dog", "▁."])}
>>> tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
>>> tk.pre_tokenizer = pre_tokenizers.Metaspace()
>>> tk.decoder = decoders.Metaspace()
>>> tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", unk_token="<unk>")
>>> ids = [2, 3, 4, 1]
>>> [w.text for w in official_words(ids, tok)]
['A', 'dog', '.<|im_end|>']
>>> [(w.text, w.tokens) for w in default_words(ids, tok)]
[('A', (0,)), ('dog', (1,)), ('.', (2,))]
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Word", "default_words", "is_cjk", "official_words"]

_PUNCT = set(string.punctuation)


@dataclass(frozen=True)
class Word:
    """A word: its text and the indices of its tokens (consecutive)."""

    text: str
    tokens: tuple[int, ...]


def is_cjk(text: str) -> bool:
    """True when the Unicode name of any character of ``text`` contains 'CJK' (ideographs; not "。").

    >>> is_cjk("猫"), is_cjk("cat")
    (True, False)
    """
    return any("CJK" in unicodedata.name(ch, "") for ch in text)


def _decode_each(tokenizer, ids: Sequence[int]) -> list[str]:
    return tokenizer.batch_decode([[int(i)] for i in ids])


def official_words(token_ids: Sequence[int], tokenizer) -> list[Word]:
    """Words of the official script (decode with special tokens, re-tokenise, group; see the module docstring)."""
    text = tokenizer.decode([int(i) for i in token_ids])
    pieces = tokenizer.tokenize(text)
    if not pieces:
        return []
    texts = _decode_each(tokenizer, tokenizer.convert_tokens_to_ids(pieces))
    words: list[list] = []
    for i, (piece, t) in enumerate(zip(pieces, texts)):
        if i == 0 or t in string.punctuation or is_cjk(t) or t[0] == " " or piece[0] == "\u2581":
            words.append([t.replace(" ", ""), [i]])
        else:
            words[-1][0] += t.replace(" ", "")
            words[-1][1].append(i)
    return [Word(w, tuple(idx)) for w, idx in words]


def _is_punct(text: str) -> bool:
    s = text.strip()
    return bool(s) and all(ch in _PUNCT or unicodedata.category(ch).startswith("P") for ch in s)


def default_words(token_ids: Sequence[int], tokenizer) -> list[Word]:
    """Words of the generated ids with special tokens left out (see the module docstring)."""
    ids = [int(i) for i in token_ids]
    if not ids:
        return []
    special = set(tokenizer.all_special_ids)
    pieces = tokenizer.convert_ids_to_tokens(ids)
    texts = _decode_each(tokenizer, ids)
    groups: list[list[int]] = []
    open_word = False  # may the next token be appended to the last group?
    for i, (tid, piece, t) in enumerate(zip(ids, pieces, texts)):
        if tid in special:
            open_word = False
            continue
        if not t.strip():  # whitespace only: ends the word
            open_word = False
            continue
        punct = _is_punct(t)
        starts = not open_word or t[0].isspace() or (piece or " ")[0] in "\u2581\u0120" or punct or is_cjk(t)
        if starts:
            groups.append([i])
        else:
            groups[-1].append(i)
        open_word = not punct and not is_cjk(t) and not t[-1].isspace()
    texts_w = tokenizer.batch_decode([[ids[i] for i in g] for g in groups], skip_special_tokens=True)
    return [Word(t.strip(), tuple(g)) for t, g in zip(texts_w, groups)]
