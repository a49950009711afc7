"""OK-VQA (open-ended visual question answering on COCO val2014 images).

Example::

    from tam_widgets.datasets import OKVQA

    ds = OKVQA("/data/okvqa", suffix=OKVQA.SHORT_ANSWER)
    s = ds[0]
    s.prompt, s.answers  # the question (+ suffix), the 10 human answers
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import EvalDataset, Sample, missing, read_json, read_rgb, require_dir

__all__ = ["OKVQA"]

_LAYOUT = """\
  <root>/OpenEnded_mscoco_val2014_questions.json   {"questions": [{"image_id", "question", "question_id"}]}
  <root>/mscoco_val2014_annotations.json           {"annotations": [{"question_id", "image_id", "answers": [...]}]}
  <root>/val2014/COCO_val2014_<image_id:012d>.jpg
  (the two JSON files may also sit in <root>/annotations/)"""


def _find_json(root: Path, name: str) -> Path:
    for p in (root / name, root / "annotations" / name):
        if p.is_file():
            return p
    raise missing(root / name, _LAYOUT)


def okvqa_records(questions: dict, annotations: dict) -> list[dict[str, Any]]:
    """Join the questions and annotations files by ``question_id``: one record per question (file order)."""
    by_q = {int(a["question_id"]): a for a in annotations["annotations"]}
    records = []
    for q in questions["questions"]:
        qid = int(q["question_id"])
        a = by_q.get(qid, {})
        records.append(
            dict(
                id=str(qid),
                question_id=qid,
                image_id=int(q["image_id"]),
                question=str(q["question"]),
                answers=[str(x["answer"]) for x in a.get("answers", [])],
                question_type=a.get("question_type"),
                answer_type=a.get("answer_type"),
            )
        )
    return records


class OKVQA(EvalDataset):
    """OK-VQA questions with their human answers.

    Args:
        root: dataset root (see the layout in the error messages / module source).
        split: the COCO split in the file names (``"val2014"``).
        suffix: appended to the question to form the prompt, e.g. :attr:`SHORT_ANSWER`.
        image_dir: override the image directory (default ``<root>/<split>``).
        shard: ``(i, n)``; load_pixels: False skips reading images.

    One sample per question; ``id`` is the question id; ``answers`` holds the (10) human answers
    in file order; ``meta`` has ``question_id``, ``image_id``, ``question`` and the answer types.

    Example (illustrative: needs OK-VQA's files and COCO val2014)::

        ds = OKVQA("/data/okvqa", suffix=OKVQA.SHORT_ANSWER)
        s = ds[0]; s.prompt, s.answers[:3]
    """

    SHORT_ANSWER = " Answer the question using a single word or phrase."
    #: The expected folder layout (shown in error messages and ``tam-widgets evaluate --help``).
    LAYOUT = _LAYOUT

    def __init__(
        self,
        root: str | Path,
        split: str = "val2014",
        suffix: str = "",
        image_dir: str | Path | None = None,
        shard: tuple[int, int] | None = None,
        load_pixels: bool = True,
    ) -> None:
        super().__init__(shard=shard, load_pixels=load_pixels)
        self.root = Path(root)
        self.split, self.suffix = split, suffix
        layout = _LAYOUT.replace("val2014", split)
        if not self.root.is_dir():
            raise missing(self.root, layout, "OKVQA root directory")
        qs = read_json(_find_json(self.root, f"OpenEnded_mscoco_{split}_questions.json"), layout)
        an = read_json(_find_json(self.root, f"mscoco_{split}_annotations.json"), layout)
        if not isinstance(qs, dict) or "questions" not in qs:
            raise ValueError(f"OKVQA questions file has no 'questions' list; expected layout:\n{layout}")
        if not isinstance(an, dict) or "annotations" not in an:
            raise ValueError(f"OKVQA annotations file has no 'annotations' list; expected layout:\n{layout}")
        self.image_dir = require_dir(Path(image_dir) if image_dir is not None else self.root / split, layout)
        self._set_records(okvqa_records(qs, an))

    def _load(self, rec: dict[str, Any]) -> Sample:
        path = self.image_dir / f"COCO_{self.split}_{rec['image_id']:012d}.jpg"
        meta = {k: rec[k] for k in ("question_id", "image_id", "question", "question_type", "answer_type")}
        meta["image_path"] = str(path)
        return Sample(
            id=rec["id"],
            prompt=rec["question"] + self.suffix,
            image=read_rgb(path) if self.load_pixels else None,
            answers=list(rec["answers"]),
            meta=meta,
        )
