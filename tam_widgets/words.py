"""Words of a tokenised text: grouping tokens into words, covering every token, aligning two texts' words.

* :func:`group_words`: half-open token ranges of words (what ``Explanation.words`` stores);
* :func:`cover_words`: those ranges completed with one-token words, so every token is in one word;
* :func:`align_words`: which word of one text is which word of another (two models, two tokenizers).

Nothing here needs a model: tokens are anything with ``.text``, ``.role`` and ``.turn``
(:class:`~tam_widgets.record.Token`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class _Tokenish(Protocol):
    text: str
    role: str
    turn: int


def _is_punct(text: str) -> bool:
    """Whether ``text`` has characters and none of them is a letter or digit (spaces aside)."""
    s = text.strip()
    return bool(s) and all(not c.isalnum() for c in s)


def group_words(tokens: Sequence[_Tokenish]) -> np.ndarray:
    """Half-open ``[start, end)`` token ranges of words: a word starts at a space, a punctuation
    mark, a role or turn change, or a special token.

    >>> from tam_widgets.record import Token
    >>> toks = [Token(t, 0, "answer", 0, i) for i, t in enumerate(["A", " ca", "t", "."])]
    >>> group_words(toks).tolist()
    [[0, 1], [1, 3], [3, 4]]
    """
    starts = []
    for i, t in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        if (
            prev is None
            or t.role != prev.role
            or t.turn != prev.turn
            or t.role == "special"
            or t.text[:1].isspace()
            or t.text.startswith("▁")
            or _is_punct(t.text)
            or _is_punct(prev.text)
        ):
            starts.append(i)
    ends = [*starts[1:], len(tokens)]
    return np.array(list(zip(starts, ends)), np.int64).reshape(-1, 2)


def cover_words(words: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Word ranges completed with one-token words for any token no word covers.

    >>> cover_words(np.array([[1, 3]]), 4)
    [(0, 1), (1, 3), (3, 4)]
    """
    out, at = [], 0
    for s, e in np.asarray(words).tolist():
        out.extend((i, i + 1) for i in range(at, s))
        out.append((s, e))
        at = e
    out.extend((i, i + 1) for i in range(at, n))
    return out


def normalize_word(text: str) -> str:
    """A word's text as :func:`align_words` compares it: SentencePiece ``▁`` as a space, spaces and
    punctuation stripped at both ends, casefolded; a word of punctuation only keeps its marks.

    >>> [normalize_word(w) for w in ["▁The", " cat,", "Cat", " .", " "]]
    ['the', 'cat', 'cat', '.', '']
    """
    s = text.replace("▁", " ").strip().casefold()
    core = s
    while core and not core[0].isalnum():
        core = core[1:]
    while core and not core[-1].isalnum():
        core = core[:-1]
    return core or s


def _lcs_table(na: Sequence[str], nb: Sequence[str]) -> np.ndarray:
    """``lcs[i, j]``: the length of a longest common subsequence of ``na[i:]`` and ``nb[j:]`` (empty words never
    match). Row by row with numpy: a row of the prefix table is the running maximum of
    ``max(row above, row above shifted + match)``, so three 512-word answers align in a few milliseconds."""
    n, m = len(na), len(nb)
    ids: dict[str, int] = {}
    ia = np.array([ids.setdefault(w, len(ids)) if w else -1 - k for k, w in enumerate(na[::-1])], np.int64)
    ib = np.array([ids.get(w, -2 - n - k) if w else -2 - n - k for k, w in enumerate(nb[::-1])], np.int64)
    # pre[i][j]: LCS of the last i words of na and the last j words of nb
    pre = np.zeros((n + 1, m + 1), np.int16 if max(n, m) < 2**15 else np.int32)
    for i in range(1, n + 1):
        above = pre[i - 1]
        row = np.maximum(above[1:], above[:-1] + (ib == ia[i - 1]), dtype=pre.dtype)
        np.maximum.accumulate(row, out=pre[i, 1:])
    return pre[::-1, ::-1]


def align_words(a: Sequence[str], b: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Align two texts' words: a longest common subsequence of their :func:`normalize_word` texts.

    Returns pairs ``(i, j)`` in reading order covering every word of both once: ``(i, j)`` when
    ``a[i]`` and ``b[j]`` are the same word, ``(i, None)`` for a word only in ``a`` and
    ``(None, j)`` for one only in ``b`` (between two matches, ``a``'s words come first). Words that
    are only spaces never match.

    >>> align_words(["A", " black", " cat", "."], ["▁a", "▁cat", "▁sat", "."])
    [(0, 0), (1, None), (2, 1), (None, 2), (3, 3)]
    """
    return align_keys([normalize_word(w) for w in a], [normalize_word(w) for w in b])


def align_keys(na: Sequence[str], nb: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """:func:`align_words` of texts already normalised by :func:`normalize_word` (empty ones never match).

    >>> align_keys(["a", "cat"], ["the", "cat"])
    [(0, None), (None, 0), (1, 1)]
    """
    n, m = len(na), len(nb)
    lcs = _lcs_table(na, nb)
    out: list[tuple[int | None, int | None]] = []
    i = j = 0
    skipped_b: list[int] = []
    while i < n and j < m:
        if na[i] and na[i] == nb[j] and lcs[i, j] == lcs[i + 1, j + 1] + 1:
            out.extend((None, k) for k in skipped_b)
            skipped_b.clear()
            out.append((i, j))
            i, j = i + 1, j + 1
        elif lcs[i + 1, j] >= lcs[i, j + 1]:
            out.append((i, None))
            i += 1
        else:
            skipped_b.append(j)
            j += 1
    out.extend((k, None) for k in range(i, n))
    out.extend((None, k) for k in [*skipped_b, *range(j, m)])
    return out
