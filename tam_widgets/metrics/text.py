"""Caption quality: METEOR (NLTK) and ROUGE-L (LCS F-measure, written here), each the max over the references.

Tokenisation is simple and needs no NLTK download: lower case, then words (letters, digits, inner apostrophes);
punctuation is dropped. ``compat="official"`` tokenises as the paper's script did, ``text.lower().split()``
(punctuation stays glued: "dog." != "dog"). The paper computed ROUGE-L with the ``rouge`` package, whose
summary-level, set-based union LCS can differ slightly from this sentence-level LCS on repeated words.

>>> round(rouge_l("a dog on a couch", ["a dog sleeping on the couch"]), 4)
0.7273
>>> 0.0 < meteor("a dog on a couch", ["a dog sleeping on the couch"]) < 1.0
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from .nlp import ensure_nltk_data

__all__ = ["lcs_length", "meteor", "rouge_l", "tokenize"]

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def tokenize(text: str, compat: Literal["default", "official"] = "default") -> list[str]:
    """Lower-cased words of ``text``.

    >>> tokenize("A dog's toy, on the sofa.")
    ['a', "dog's", 'toy', 'on', 'the', 'sofa']
    >>> tokenize("A dog's toy, on the sofa.", compat="official")
    ['a', "dog's", 'toy,', 'on', 'the', 'sofa.']
    """
    if compat == "official":
        return text.lower().split()
    return _WORD.findall(text.lower())


def _refs(references: str | Sequence[str]) -> list[str]:
    refs = [references] if isinstance(references, str) else list(references)
    if not refs:
        raise ValueError("at least one reference caption is needed")
    return refs


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (O(len(a) * len(b)) time, O(len(b)) memory).

    >>> lcs_length("a b c d".split(), "a c b d".split())
    3
    """
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(
    caption: str,
    references: str | Sequence[str],
    beta: float = 1.0,
    compat: Literal["default", "official"] = "default",
) -> float:
    """ROUGE-L F-measure of ``caption``, the max over ``references``.

    ``P = LCS / len(caption)``, ``R = LCS / len(reference)``, ``F = (1 + beta²) P R / (R + beta² P)`` (0 when the
    LCS is empty).

    >>> rouge_l("the cat sat", ["the cat sat", "a dog"])
    1.0
    >>> rouge_l("", "a dog")
    0.0
    """
    hyp = tokenize(caption, compat)
    best = 0.0
    for ref in _refs(references):
        r = tokenize(ref, compat)
        lcs = lcs_length(hyp, r) if hyp and r else 0
        if lcs:
            p, rc = lcs / len(hyp), lcs / len(r)
            best = max(best, (1 + beta**2) * p * rc / (rc + beta**2 * p))
    return best


def meteor(caption: str, references: str | Sequence[str], compat: Literal["default", "official"] = "default") -> float:
    """METEOR of ``caption`` against ``references`` (``nltk.translate.meteor_score.meteor_score``, max over them).

    Needs NLTK's WordNet (synonym matching); an empty caption scores 0.

    >>> meteor("a cat", ["a cat"]) > 0.9
    True
    """
    refs = [tokenize(r, compat) for r in _refs(references)]
    hyp = tokenize(caption, compat)
    if not hyp:
        return 0.0
    ensure_nltk_data()
    from nltk.translate.meteor_score import meteor_score

    return float(meteor_score(references=refs, hypothesis=hyp))
