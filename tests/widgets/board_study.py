"""A hand-made failure-case study for the board's tests: pictures on disk, some records cached, a video case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tam_widgets.studies import Study
from tam_widgets.testing.records import picture, synthetic_record

QUESTIONS = ["What animal is this?", "What is the man holding?", "Where was this photo taken?",
             "What sport is shown?", "What colour is the bus?"]


def make_cases(folder: Path, n: int = 12, broken: bool = True) -> list[dict]:
    """``n`` VQA cases ``q0``, ``q1``, ... on small pictures (case ``q3``'s picture unreadable when ``broken``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for k in range(n):
        path = folder / f"pic{k}.png"
        if broken and k == 3:
            path.write_bytes(b"not a picture")
        elif not path.exists():
            Image.fromarray(picture(96, 128, seed=k)).save(path)
        truth = ["cat", "umbrella", "beach", "tennis", "red"][k % 5]
        cases.append({"id": f"q{k}", "image": str(path), "question": QUESTIONS[k % 5] + ("" if k < 5 else f" ({k})"),
                      "answers": [truth] * 7 + ["other"] * 3, "question_type": ["animal", "object", "place"][k % 3]})
    return cases




def make_study(folder: Path, n: int = 12, cached: tuple[int, ...] = (0, 1, 2), explainer=None, **kw) -> Study:
    """A study over :func:`make_cases` with the records of cases ``cached`` saved in its record cache.

    Case 0 answers "cat" (right), 1 "a cat" (wrong: umbrella), 2 "the sea" (wrong: beach).
    """
    cases = make_cases(folder / "pictures", n)
    study = Study(cases, explainer, folder / "study" / "annotations.jsonl", **kw)
    answers = {0: [" cat"], 1: [" a", " cat"], 2: [" the", " sea"]}
    for k in cached:
        c = study.case_list[k]
        exp = synthetic_record(answers.get(k, [" red"]), seed=k)
        exp.metadata["study_case"] = {"id": c.id, "prompt": c.prompt, "generation": study.generation}
        path = study.record_path(c.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        exp.save(path)
    return study


class FakeExplainer:
    """An explainer that returns synthetic records (and fails on a question containing 'fail')."""

    model_id = None

    def __init__(self):
        self.calls: list[str] = []

    def explain(self, image=None, video=None, prompt="", **kw):
        self.calls.append(prompt)
        if "fail" in prompt:
            raise RuntimeError("the model ran out of memory")
        assert isinstance(np.asarray(image if image is not None else video[0]), np.ndarray)
        return synthetic_record([" red"], seed=len(self.calls))
