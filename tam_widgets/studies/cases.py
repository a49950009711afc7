"""Cases of a failure-case study, and the readers of OK-VQA and STAR in their real file formats.

A case is one question about one picture (OK-VQA) or one clip of a video (STAR) with its ground truth:
``answers`` (the human answers, VQA) or ``choices`` + ``answer`` (STAR). :func:`okvqa` and :func:`star`
read the official files and return a :class:`~tam_widgets.studies.Study` over their cases.

>>> c = Case.from_dict({"id": 7, "image": "cat.jpg", "question": "What animal?", "answers": ["cat"] * 10})
>>> c.id, c.kind, c.ground_truth
('7', 'vqa', 'cat')
"""

from __future__ import annotations

import os
import re
import string
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..record import Explanation
    from .study import Study

__all__ = ["STAR_TYPES", "Case", "match_choice", "okvqa", "parse_letter", "star", "star_question_type"]

STAR_TYPES = ("Interaction", "Sequence", "Prediction", "Feasibility")
"""STAR's question types: the prefix of every ``question_id`` (``"Interaction_T1_13"``).

>>> star_question_type("Interaction_T1_13") in STAR_TYPES
True
"""
#: asked after the question with ``prompt="choices"``
CHOICES_SUFFIX = "\nAnswer with the option's letter from the given choices directly."
LETTERS = string.ascii_uppercase


@dataclass
class Case:
    """One question of a study: a picture (``image``) or a clip (``video`` from ``start`` to ``end`` seconds).

    Attributes:
        id: unique within the study (ints are turned into str).
        question: the question as the data set states it; ``prompt`` is what the model is asked
            (default: the question).
        image: a picture path or an array; video: a video path (frames sampled inside [start, end]).
        answers: the human answers (VQA); choices + answer: the options and the right one (STAR).
        question_type: e.g. the OK-VQA question type or the STAR prefix (``"Interaction"``).
        prediction: the model's answer when known without a record (else it comes from the record).
        meta: anything else (file ids; ``prompt_mode`` of STAR: ``"open"`` or ``"choices"``; ``max_frames``
            sampled from a video, default 8).

    >>> Case(id=7, question="What animal is this?", image="cat.jpg", answers=["cat"] * 10).id
    '7'
    >>> Case(id="Sequence_T1_3", question="What did the person do?", video="clip.mp4", start=1.0, end=4.5,
    ...      choices=["Opened the door.", "Sat down."], answer="Sat down.", question_type="Sequence").choices
    ['Opened the door.', 'Sat down.']
    """

    id: str
    question: str
    image: Any = None
    video: str | os.PathLike | None = None
    start: float | None = None
    end: float | None = None
    answers: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    answer: str | None = None
    question_type: str | None = None
    prompt: str | None = None
    prediction: str | None = None
    meta: dict = field(default_factory=dict)
    explanation: Explanation | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.id, (int, np.integer)) and not isinstance(self.id, bool):
            self.id = str(self.id)
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError(f"a case needs a non-empty str id, got {self.id!r}")
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError(f"case {self.id!r}: the question is empty")
        if (self.image is None) == (self.video is None):
            raise ValueError(f"case {self.id!r}: give exactly one of image= or video=")
        self.answers = [str(a) for a in self.answers]
        self.choices = [str(c) for c in self.choices]
        if self.choices:
            if self.answer is None or str(self.answer) not in self.choices:
                raise ValueError(
                    f"case {self.id!r}: the answer {self.answer!r} is not one of its choices {self.choices}"
                )
            self.answer = str(self.answer)
        elif not self.answers:
            raise ValueError(f"case {self.id!r}: no ground truth; give answers=[...] (VQA) or choices + answer (STAR)")
        for name in ("start", "end"):
            v = getattr(self, name)
            if v is not None:
                setattr(self, name, float(v))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"case {self.id!r}: end {self.end} s is not after start {self.start} s")
        if self.prompt is None:
            self.prompt = self.question
        self.meta = dict(self.meta)

    @classmethod
    def from_dict(cls, d: dict) -> Case:
        """A case from a plain dict with the attribute names as keys; unknown keys are refused."""
        if isinstance(d, Case):
            return d
        if not isinstance(d, dict):
            raise TypeError(f"a case is a Case or a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"case {d.get('id')!r}: unknown keys {unknown}; the keys are {sorted(known)}")
        return cls(**d)

    @property
    def kind(self) -> str:
        """``"star"`` for a multiple-choice case, else ``"vqa"``."""
        return "star" if self.choices else "vqa"

    @property
    def ground_truth(self) -> str:
        """The right answer: STAR's ``answer``, or the most frequent human answer (first in file order on ties)."""
        if self.choices:
            return str(self.answer)
        return Counter(self.answers).most_common(1)[0][0]

    def choice(self, prediction: str) -> tuple[int | None, str]:
        """The index of the choice ``prediction`` names (or None) and how it was found; see :func:`match_choice`."""
        if self.meta.get("prompt_mode") == "choices":
            k = parse_letter(prediction, len(self.choices))
            if k is not None:
                return k, "letter"
        return match_choice(prediction, self.choices)

    def score(self, prediction: str) -> float:
        """The official VQA accuracy (VQA) or 1.0 / 0.0 for the right / any other choice (STAR)."""
        from .vqa_eval import vqa_accuracy

        if self.choices:
            k, _ = self.choice(prediction)
            return float(k is not None and self.choices[k] == self.answer)
        return vqa_accuracy(prediction, self.answers)


# -- STAR answers ---------------------------------------------------------------------------------
_STOP = frozenset("a an the some of to and or his her their its".split())


def _singular(w: str) -> str:
    """A plural's singular by the English spelling rule: ``boxes``/``dishes``/``glasses`` lose ``es``, others ``s``."""
    if len(w) > 4 and w.endswith(("xes", "ches", "shes", "sses", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _words(text: str) -> list[str]:
    """Lower-case words without punctuation and stop words, plurals made singular (:func:`_singular`)."""
    out = []
    for w in re.findall(r"[a-z0-9']+", text.lower()):
        w = w.strip("'")
        if w and w not in _STOP:
            out.append(_singular(w))
    return out


def match_choice(answer: str, choices: list[str], min_cover: float = 0.5) -> tuple[int | None, str]:
    """The choice a free answer names: ``(index or None, how)``.

    The rule (``prompt="open"``, the paper's way):

    1. the answer equals a choice once both are lower-cased and stripped of punctuation, articles and
       ``some/of/to/and/or/his/her/their/its``, plurals made singular (``boxes`` -> ``box``): ``"exact"``;
    2. otherwise each choice is scored by the share of its words found among the answer's words; the
       best choice wins if it covers at least ``min_cover`` of its words and no other choice ties with it
       (``"words"``);
    3. otherwise no choice: ``"no choice named"`` or ``"ambiguous: ..."``. An unmatched answer counts as wrong.

    >>> choices = ["The laptop.", "The box.", "The bag.", "The case."]
    >>> match_choice("The person opened a pink case", choices)
    (3, 'words')
    >>> match_choice("The person opened a pink case", choices[:3])
    (None, 'no choice named')
    >>> match_choice("a box and a bag", choices)
    (None, "ambiguous: 'The box.', 'The bag.'")
    """
    said = _words(answer)
    said_set = set(said)
    forms = [_words(c) for c in choices]
    exact = [k for k, f in enumerate(forms) if f and f == said]
    if len(exact) == 1:
        return exact[0], "exact"
    cover = [len([w for w in f if w in said_set]) / len(f) if f else 0.0 for f in forms]
    best = max(cover, default=0.0)
    if best < min_cover or best == 0:
        return None, "no choice named"
    top = [k for k, c in enumerate(cover) if c == best]
    if len(top) > 1:
        return None, "ambiguous: " + ", ".join(repr(choices[k]) for k in top)
    return top[0], "words"


def parse_letter(answer: str, n_choices: int = 4) -> int | None:
    """The option letter in an answer to a lettered prompt, as an index (``"B"``, ``"(B)"``, ``"B. The box"``,
    ``"The answer is B."``; either case), or None. A letter followed by a word (``"A laptop"``) is an article.

    >>> parse_letter("B."), parse_letter("(c) the bag"), parse_letter("The answer is D"), parse_letter("A laptop")
    (1, 2, 3, None)
    """
    valid = LETTERS[:n_choices]
    text = answer.strip()
    m = re.match(rf"^\(?([{valid}])(?:\)|\.|:|,|$)", text, flags=re.IGNORECASE)
    if m:
        return valid.index(m.group(1).upper())
    m = re.search(rf"\b(?:answer|option)(?: is)?:?\s*\(?([{valid}])\b\)?", text, flags=re.IGNORECASE)
    if m:
        return valid.index(m.group(1).upper())
    return None


def star_question_type(question_id: str) -> str:
    """The question type of a STAR question id: its prefix before ``_``.

    >>> star_question_type("Sequence_T1_3")
    'Sequence'
    """
    return str(question_id).split("_", 1)[0]


# -- readers ----------------------------------------------------------------------------------------
def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a whole number >= 1 (or None for every question), got {limit!r}")


def okvqa(
    explainer,
    questions_json: str | os.PathLike,
    annotations_json: str | os.PathLike,
    images_dir: str | os.PathLike,
    limit: int | None = None,
    *,
    split: str = "val2014",
    suffix: str = " Answer the question using a single word or phrase.",
    **study,
) -> Study:
    """A :class:`Study` of OK-VQA questions from the official files (``explainer`` may be None).

    ``questions_json`` (``OpenEnded_mscoco_val2014_questions.json``: ``questions[{image_id, question,
    question_id}]``), ``annotations_json`` (``mscoco_val2014_annotations.json``: ``annotations[{question_id,
    image_id, question_type, answer_type, answers[{answer_id, answer, raw_answer, answer_confidence}]}]``)
    and ``images_dir`` holding ``COCO_val2014_{image_id:012d}.jpg``. Cases are sorted by question id;
    ``limit`` keeps the first ones. The prompt is the question + ``suffix``. Pictures are read when a
    case is shown or explained (a missing one is an error on that case). ``study`` goes to :class:`Study`
    (``store=``, ``threshold=``, ...).

    Example (illustrative: needs OK-VQA's files; ``explainer=None`` looks at cached records only):

    >>> import tam_widgets as tw
    >>> study = tw.studies.okvqa(tw.load("Qwen/Qwen2-VL-2B-Instruct"), "OpenEnded_mscoco_val2014_questions.json",
    ...                          "mscoco_val2014_annotations.json", "val2014/", limit=200,
    ...                          store="study/annotations.jsonl")  # doctest: +SKIP
    >>> study.precompute(); tw.FailureCaseBoard(study)  # doctest: +SKIP
    """
    from ..datasets.base import natural_key, read_json
    from ..datasets.vqa import OKVQA, okvqa_records
    from .study import Study

    _check_limit(limit)
    layout = OKVQA.LAYOUT
    qpath, apath, images = Path(questions_json), Path(annotations_json), Path(images_dir)
    qs, an = read_json(qpath, layout), read_json(apath, layout)
    if not isinstance(qs, dict) or not isinstance(qs.get("questions"), list):
        raise ValueError(f"{qpath}: no 'questions' list; is it OpenEnded_mscoco_{split}_questions.json?")
    if not isinstance(an, dict) or not isinstance(an.get("annotations"), list):
        raise ValueError(f"{apath}: no 'annotations' list; is it mscoco_{split}_annotations.json?")
    if not images.is_dir():
        raise FileNotFoundError(f"images directory not found: {images} (it holds COCO_{split}_<image_id:012d>.jpg)")
    try:
        records = okvqa_records(qs, an)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(
            f"{qpath} / {apath}: an entry is malformed ({type(e).__name__}: {e}); see:\n{layout}"
        ) from None
    records.sort(key=lambda r: natural_key(r["id"]))
    cases = []
    for r in records[:limit]:
        if not r["answers"]:
            raise ValueError(f"{apath}: question {r['question_id']} has no answers (is it the matching file?)")
        cases.append(
            Case(
                id=r["id"],
                question=r["question"],
                prompt=r["question"] + suffix,
                image=images / f"COCO_{split}_{r['image_id']:012d}.jpg",
                answers=r["answers"],
                question_type=r["question_type"],
                meta={"image_id": r["image_id"], "answer_type": r["answer_type"]},
            )
        )
    return Study(cases, explainer=explainer, **study)


def star(
    explainer,
    star_json: str | os.PathLike,
    videos_dir: str | os.PathLike,
    limit: int | None = None,
    prompt: str = "open",
    *,
    max_frames: int = 8,
    **study,
) -> Study:
    """A :class:`Study` of STAR questions from ``STAR_val.json`` and the Charades ``{video_id}.mp4`` files.

    Each entry has ``question_id``, ``question``, ``video_id``, ``start``, ``end``, ``answer`` and
    ``choices[{choice_id, choice}]`` (ordered by ``choice_id``); the question type is the ``question_id``
    prefix (:data:`STAR_TYPES`). ``max_frames`` frames are sampled uniformly inside [start, end]
    (:func:`tam_widgets.datasets.read_video_frames`). With ``prompt="open"`` the model sees the question
    alone and its answer is matched to a choice by :func:`match_choice`; with ``prompt="choices"`` the
    options are listed as ``A. ...`` and the letter is read by :func:`parse_letter` (falling back to
    :func:`match_choice`). ``study`` goes to :class:`Study`.

    Example (illustrative: needs STAR's annotations and the Charades videos):

    >>> import tam_widgets as tw
    >>> study = tw.studies.star(tw.load("Qwen/Qwen2-VL-2B-Instruct"), "STAR_val.json", "Charades_v1_480/",
    ...                         limit=100, prompt="choices", store="star/annotations.jsonl")  # doctest: +SKIP
    >>> study.cases.groupby("question_type").correct.mean()  # doctest: +SKIP
    """
    from ..datasets.video import STAR
    from .study import Study

    _check_limit(limit)
    if prompt not in ("open", "choices"):
        raise ValueError(f"prompt must be 'open' or 'choices', got {prompt!r}")
    path, videos = Path(star_json), Path(videos_dir)
    if not path.is_file():
        raise FileNotFoundError(f"STAR annotation file not found: {path} (STAR_val.json)")
    try:
        ds = STAR(path.parent, ann_file=path.name, video_dir=videos, load_pixels=False, max_frames=max_frames)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{path}: an entry is malformed ({type(e).__name__}: {e}); see:\n{STAR.LAYOUT}") from None
    cases = []
    for k in range(min(len(ds), limit or len(ds))):
        s = ds[k]
        m = s.meta
        text = m["question"]
        if prompt == "choices":
            text += "\n" + "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(m["choices"])) + CHOICES_SUFFIX
        cases.append(
            Case(
                id=s.id,
                question=m["question"],
                prompt=text,
                video=m["video_path"],
                start=m["start"],
                end=m["end"],
                choices=m["choices"],
                answer=s.answers[0],
                question_type=star_question_type(s.id),
                meta={"video_id": m["video_id"], "prompt_mode": prompt, "max_frames": int(max_frames)},
            )
        )
    return Study(cases, explainer=explainer, **study)
