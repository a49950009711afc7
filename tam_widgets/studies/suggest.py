"""Suggested reasons for a failed case, each with its evidence (shown as suggestions, never as annotations).

Three rules (:func:`suggest_reasons`):

* **answer shifted by context**: a word of the ground truth is among the top-3 candidates of an answer
  token but was not generated (the paper's "pink case" example); evidence: the token, the candidate,
  its rank and probability;
* **synonym / hypernym / hyponym of the answer**: the model's answer and a ground-truth answer share a
  WordNet noun synset (synonym), or one is within ``WORDNET_DEPTH`` hypernym steps of the other
  (the answer is a hypernym: more general; a hyponym: more specific); evidence: the relation and synsets;
* **weak vision-text alignment**: every answer word's TAM map peaks below ``low_peak`` (on TAM's scale,
  1 = the token's strongest evidence over image and text together), i.e. it was answered from the text;
  evidence: the peak of each answer word.
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..record import format_prob

if TYPE_CHECKING:
    from ..record import Explanation
    from .cases import Case

__all__ = ["LOW_PEAK", "WORDNET_DEPTH", "suggest_reasons", "wordnet_relation"]

#: hypernym steps searched between the answer and the ground truth
WORDNET_DEPTH = 3
#: a peak below this on every answer word suggests the answer came from the text
LOW_PEAK = 0.3
_ARTICLES = frozenset(("a", "an", "the"))


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower()) if w not in _ARTICLES]


def _truths(case: Case) -> list[str]:
    """The distinct ground-truth answers, most frequent first."""
    if case.choices:
        return [str(case.answer)]
    seen: dict[str, int] = {}
    for a in case.answers:
        seen[a.strip()] = seen.get(a.strip(), 0) + 1
    return [a for a, _ in sorted(seen.items(), key=lambda kv: -kv[1]) if a]


def _synsets(phrase: str):
    from nltk.corpus import wordnet as wn

    from ..metrics.nlp import ensure_nltk_data

    ensure_nltk_data()
    key = "_".join(_words(phrase))
    return wn.synsets(key, pos=wn.NOUN) if key else []


def _ancestors(synset, depth: int) -> dict:
    """``{ancestor: steps}`` over hypernyms and instance hypernyms, up to ``depth`` steps."""
    out, frontier = {}, [synset]
    for step in range(1, depth + 1):
        nxt = []
        for s in frontier:
            for h in s.hypernyms() + s.instance_hypernyms():
                if h not in out:
                    out[h] = step
                    nxt.append(h)
        frontier = nxt
    return out


def wordnet_relation(answer: str, truth: str, depth: int = WORDNET_DEPTH) -> dict | None:
    """How WordNet relates the model's ``answer`` to ``truth``: ``{"relation", "answer_synset", "truth_synset",
    "steps"}`` with relation ``"synonym"``, ``"hypernym"`` (the answer is more general) or ``"hyponym"``
    (more specific), or None (also when both are the same words).

    >>> wordnet_relation("dog", "animal")["relation"], wordnet_relation("car", "automobile")["relation"]
    ('hyponym', 'synonym')
    """
    rel = _relation(" ".join(_words(answer)), " ".join(_words(truth)), int(depth))
    return dict(rel) if rel is not None else None


@functools.lru_cache(maxsize=65536)
def _relation(answer: str, truth: str, depth: int) -> dict | None:
    """:func:`wordnet_relation` on normalised words (cached: studies repeat answers)."""
    if answer == truth:
        return None
    a_sets, t_sets = _synsets(answer), _synsets(truth)
    shared = [s for s in a_sets if s in t_sets]
    if shared:
        return {"relation": "synonym", "answer_synset": shared[0].name(), "truth_synset": shared[0].name(), "steps": 0}
    best = None
    for a in a_sets:
        up = _ancestors(a, depth)
        for t in t_sets:
            if t in up and (best is None or up[t] < best["steps"]):
                best = {"relation": "hyponym", "answer_synset": a.name(), "truth_synset": t.name(), "steps": up[t]}
    for t in t_sets:
        up = _ancestors(t, depth)
        for a in a_sets:
            if a in up and (best is None or up[a] < best["steps"]):
                best = {"relation": "hypernym", "answer_synset": a.name(), "truth_synset": t.name(), "steps": up[a]}
    return best


def _answer_rows(exp: Explanation) -> list[int]:
    """Rows of ``maps`` whose token is an answer token with a word in it."""
    return [
        r
        for r, i in enumerate(exp.explained)
        if exp.tokens[int(i)].role == "answer" and exp.tokens[int(i)].text.strip()
    ]


def suggest_reasons(
    case: Case, exp: Explanation | None, prediction: str, *, low_peak: float = LOW_PEAK, top: int = 3,
    wordnet: bool = True,
) -> list[dict]:
    """Suggestions for a case: ``[{"reason", "evidence", ...details}]`` (see the module docstring).

    ``exp`` may be None (only the WordNet rule runs). Call it for failed cases: a right answer gets
    suggestions too if the rules fire. ``wordnet=False`` leaves the WordNet rule out (no NLTK data needed).

    >>> from tam_widgets.studies import Case
    >>> case = Case(id="1", question="What animal is this?", image="cat.jpg", answers=["cat"] * 10)
    >>> [s["reason"] for s in suggest_reasons(case, None, "feline")]  # "feline" is a hypernym of "cat"
    ['synonym / hypernym / hyponym of the answer']
    """
    out: list[dict] = []
    truths = _truths(case)
    if exp is not None:
        truth_words = {w for t in truths for w in _words(t)}
        said = set(_words(prediction))
        for r in _answer_rows(exp):
            tok = exp.tokens[int(exp.explained[r])]
            for rank, (cid, text, p) in enumerate(
                zip(exp.candidate_ids[r][:top], exp.candidate_texts[r][:top], exp.candidate_probs[r][:top]), start=1
            ):
                words = _words(text)
                if int(cid) < 0 or int(cid) == tok.id or len(words) != 1 or words[0] not in truth_words:
                    continue
                if words[0] in said:
                    continue
                out.append(
                    {
                        "reason": "answer shifted by context",
                        "evidence": f"token {tok.label!r} (index {int(exp.explained[r])}): candidate {text!r} "
                        f"(rank {rank}, {format_prob(float(p))}) is in the ground truth",
                        "token": int(exp.explained[r]),
                        "candidate": text,
                        "rank": rank,
                    }
                )
                break
    for t in truths[:5] if wordnet else []:
        try:
            rel = wordnet_relation(prediction, t)
        except LookupError as e:  # NLTKDataMissing: say so once per message, keep the other rules
            warnings.warn(f"WordNet suggestions are off: {e}", stacklevel=2)
            break
        if rel is not None:
            out.append(
                {
                    "reason": "synonym / hypernym / hyponym of the answer",
                    "evidence": f"{prediction.strip()!r} is a WordNet {rel['relation']} of {t!r} "
                    f"({rel['answer_synset']} / {rel['truth_synset']}, {rel['steps']} step(s))",
                    **rel,
                    "truth": t,
                }
            )
            break
    if exp is not None and "tam" in exp.maps:
        rows = _answer_rows(exp)
        if rows:
            peaks = {
                int(exp.explained[r]): float(np.max(exp.maps["tam"][r])) if exp.maps["tam"].shape[1] else 0.0
                for r in rows
            }
            if max(peaks.values()) < low_peak:
                listing = ", ".join(f"{exp.tokens[i].label!r} {v:.2f}" for i, v in peaks.items())
                out.append(
                    {
                        "reason": "weak vision-text alignment",
                        "evidence": f"the answer words' TAM maps peak below {low_peak:g}: {listing} "
                        "(answered from the text, not the picture)",
                        "peaks": peaks,
                    }
                )
    return out
