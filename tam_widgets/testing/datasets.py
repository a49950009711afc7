"""Small datasets in the real on-disk formats (tests, benchmarks, the tutorials' offline runs).

``coco_formatted`` draws on scikit-image's photos (a test dependency); ``okvqa_formatted`` and
``star_formatted`` on the package's own sample photos and OpenCV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def coco_formatted(root: str | Path, copies: int = 1) -> Path:
    """The paper's formatted COCO layout with scikit-image photos and hand-drawn label masks.

    Writes ``annotations/instances_minival2014.json``, ``annotations/captions_val2014.json``,
    ``image/<id:012d>.jpg`` and ``seg_label/<id:012d>.png`` (8-bit labels: the centre of each
    photo is its object: person 1, cat 17, cup 47) for ``3 * copies`` images.
    """
    from PIL import Image
    from skimage import data

    root = Path(root)
    photos = [("person", data.astronaut()), ("cat", data.chelsea()), ("cup", data.coffee())]
    ids = {"person": 1, "cat": 17, "cup": 47, "dog": 18}
    for sub in ("annotations", "image", "seg_label"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    images, captions = [], []
    for k in range(1, 3 * copies + 1):
        name, img = photos[(k - 1) % 3]
        Image.fromarray(img).save(root / "image" / f"{k:012d}.jpg")
        mask = np.zeros(img.shape[:2], np.uint8)
        h, w = mask.shape
        mask[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = ids[name]
        Image.fromarray(mask).save(root / "seg_label" / f"{k:012d}.png")
        images.append({"id": k, "file_name": f"{k:012d}.jpg", "height": h, "width": w})
        captions.append({"id": 10 * k, "image_id": k, "caption": f"A photo of a {name} on a table."})
    categories = [{"id": v, "name": n, "supercategory": "x"} for n, v in ids.items()]
    (root / "annotations" / "instances_minival2014.json").write_text(
        json.dumps({"images": images, "annotations": [], "categories": categories})
    )
    (root / "annotations" / "captions_val2014.json").write_text(json.dumps({"images": images, "annotations": captions}))
    return root


def _vqa_answers(words: list[str]) -> list[dict]:
    return [
        {"answer_id": k + 1, "answer": w, "raw_answer": w, "answer_confidence": "yes"} for k, w in enumerate(words)
    ]


def okvqa_formatted(root: str | Path) -> dict[str, Path]:
    """OK-VQA's official files for three questions on the package's sample photos, under ``root``.

    Writes ``OpenEnded_mscoco_val2014_questions.json``, ``mscoco_val2014_annotations.json`` (ten human
    answers per question) and ``val2014/COCO_val2014_<image_id:012d>.jpg``; returns their paths as
    ``{"questions", "annotations", "images"}``.

    >>> import tempfile, tam_widgets as tw
    >>> files = okvqa_formatted(tempfile.mkdtemp())
    >>> len(tw.studies.okvqa(None, files["questions"], files["annotations"], files["images"]))
    3
    """
    from PIL import Image

    from ..samples import sample_image

    root = Path(root)
    images = root / "val2014"
    images.mkdir(parents=True, exist_ok=True)
    rows = [  # image id, photo, question id, question, the ten human answers
        (42, "chelsea", 420, "What kind of animal is this?", ["cat"] * 7 + ["kitten"] * 3),
        (139, "astronaut", 1390, "What job does this person have?", ["astronaut"] * 8 + ["pilot"] * 2),
        (77, "coffee", 770, "What drink is in the cup?", ["coffee"] * 6 + ["espresso"] * 3 + ["latte"]),
    ]
    for image_id, photo, *_ in rows:
        Image.fromarray(sample_image(photo)).save(images / f"COCO_val2014_{image_id:012d}.jpg")
    questions = [{"image_id": i, "question": q, "question_id": qid} for i, _, qid, q, _ in rows]
    annotations = [
        {"image_id": i, "question_id": qid, "question_type": "other", "answer_type": "other", "confidence": 3,
         "answers": _vqa_answers(a)}
        for i, _, qid, _, a in rows
    ]  # fmt: skip
    head = {"info": {}, "license": {}, "data_subtype": "val2014"}
    qpath, apath = root / "OpenEnded_mscoco_val2014_questions.json", root / "mscoco_val2014_annotations.json"
    qpath.write_text(json.dumps({**head, "task_type": "Open-Ended", "data_type": "mscoco", "questions": questions}))
    apath.write_text(json.dumps({**head, "annotations": annotations}))
    return {"questions": qpath, "annotations": apath, "images": images}


def write_video(path: str | Path, seconds: float = 4.0, fps: int = 8, width: int = 224) -> Path:
    """An mp4 (OpenCV, ``mp4v``) panning across the sample photo of a cat: ``seconds * fps`` frames."""
    import cv2

    from ..samples import sample_image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    photo = sample_image("chelsea")
    h = photo.shape[0] * width // photo.shape[1]
    photo = cv2.resize(photo, (width, h))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write mp4 files here ({path})")
    n = int(seconds * fps)
    for i in range(n):
        writer.write(np.ascontiguousarray(np.roll(photo, 4 * i, axis=1)[..., ::-1]))
    writer.release()
    return path


def star_formatted(root: str | Path) -> dict[str, Path]:
    """STAR's ``STAR_val.json`` (three questions of three types) and one Charades-style clip, under ``root``.

    Returns ``{"json", "videos"}``: the annotation file and the folder holding ``<video_id>.mp4``.

    >>> import tempfile, tam_widgets as tw
    >>> files = star_formatted(tempfile.mkdtemp())
    >>> [c.question_type for c in tw.studies.star(None, files["json"], files["videos"]).case_list]  # sorted by id
    ['Interaction', 'Prediction', 'Sequence']
    """
    root = Path(root)
    videos = root / "Charades_v1_480"
    write_video(videos / "6H78U.mp4")
    choices = ["The laptop.", "The box.", "The blanket.", "The book."]

    def entry(qid: str, question: str, answer: str, start: float, end: float) -> dict:
        return {
            "question_id": qid, "question": question, "video_id": "6H78U", "start": start, "end": end,
            "answer": answer, "question_program": [{"function": "Situations", "value_input": []}],
            "choices": [{"choice_id": k, "choice": c, "choice_program": []} for k, c in enumerate(choices)],
            "situations": {},
        }  # fmt: skip

    data = [
        entry("Interaction_T1_13", "Which object was the cat lying on?", "The blanket.", 0.5, 2.5),
        entry("Sequence_T3_7", "Which object did the cat look at after it woke up?", "The box.", 1.0, 3.5),
        entry("Prediction_T4_2", "What will the cat do next with the blanket?", "The blanket.", 2.0, 4.0),
    ]
    path = root / "STAR_val.json"
    path.write_text(json.dumps(data))
    return {"json": path, "videos": videos}
