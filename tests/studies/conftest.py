"""Synthetic OK-VQA and STAR files in exactly the official formats, written under ``tmp_path``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

VIDEO_FPS, VIDEO_FRAMES = 10, 40  # a 4 s clip


def _answers(words: list[str]) -> list[dict]:
    return [
        {"answer_id": k + 1, "answer": w, "raw_answer": w.capitalize(), "answer_confidence": "yes"}
        for k, w in enumerate(words)
    ]


@pytest.fixture
def okvqa_files(tmp_path: Path) -> dict:
    """Three questions (ids out of order) on two COCO pictures; question 5 has no picture on disk."""
    from skimage import data

    root = tmp_path / "okvqa"
    images = root / "val2014"
    images.mkdir(parents=True)
    Image.fromarray(data.astronaut()[::8, ::8]).save(images / "COCO_val2014_000000000139.jpg")
    Image.fromarray(data.chelsea()[::8, ::8]).save(images / "COCO_val2014_000000000042.jpg")
    questions = {
        "info": {},
        "license": {},
        "data_subtype": "val2014",
        "task_type": "Open-Ended",
        "data_type": "mscoco",
        "questions": [
            {"image_id": 139, "question": "What job does this person have?", "question_id": 1390},
            {"image_id": 42, "question": "What animal is this?", "question_id": 420},
            {"image_id": 5, "question": "Where is this?", "question_id": 50},
        ],
    }
    annotations = {
        "info": {},
        "license": {},
        "data_subtype": "val2014",
        "annotations": [
            {
                "image_id": 42,
                "question_id": 420,
                "question_type": "other",
                "answer_type": "other",
                "confidence": 3,
                "answers": _answers(["cat"] * 6 + ["kitten"] * 4),
            },
            {
                "image_id": 139,
                "question_id": 1390,
                "question_type": "one",
                "answer_type": "other",
                "confidence": 2,
                "answers": _answers(["astronaut"] * 8 + ["pilot"] * 2),
            },
            {
                "image_id": 5,
                "question_id": 50,
                "question_type": "other",
                "answer_type": "other",
                "confidence": 1,
                "answers": _answers(["beach"] * 10),
            },
        ],
    }
    q, a = root / "OpenEnded_mscoco_val2014_questions.json", root / "mscoco_val2014_annotations.json"
    q.write_text(json.dumps(questions))
    a.write_text(json.dumps(annotations))
    return {"questions": q, "annotations": a, "images": images}


def write_video(path: Path, frames: int = VIDEO_FRAMES, fps: int = VIDEO_FPS) -> Path:
    """An mp4 whose frame ``i`` is filled with grey level ``5 * i`` (so a frame's index can be read back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 5 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def star_files(tmp_path: Path) -> dict:
    """Two STAR questions on one Charades clip (choices out of choice_id order), one on a missing video."""
    root = tmp_path / "star"
    videos = root / "Charades_v1_480"
    write_video(videos / "6H78U.mp4")
    choices = [
        {"choice_id": 2, "choice": "The bag."},
        {"choice_id": 0, "choice": "The laptop."},
        {"choice_id": 1, "choice": "The box."},
        {"choice_id": 3, "choice": "The book."},
    ]

    def entry(qid, question, video, answer, start=1.0, end=3.0):
        return {
            "question_id": qid,
            "question": question,
            "video_id": video,
            "start": start,
            "end": end,
            "answer": answer,
            "question_program": [{"function": "Situations", "value_input": []}],
            "choices": [dict(c, choice_program=[]) for c in choices],
            "situations": {},
        }

    data = [
        entry("Interaction_T1_13", "Which object was opened by the person?", "6H78U", "The laptop."),
        entry("Sequence_T3_7", "Which object did the person take after they sat down?", "6H78U", "The box."),
        entry("Prediction_T4_2", "What will the person do next with the book?", "MISSING", "The book."),
    ]
    path = root / "STAR_val.json"
    path.write_text(json.dumps(data))
    return {"json": path, "videos": videos}
