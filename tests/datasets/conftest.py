"""Tiny synthetic copies of every supported dataset layout, written under ``tmp_path``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

H, W = 40, 50


def write_jpg(path: Path, h: int = H, w: int = W, value: int = 128) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((h, w, 3), value, np.uint8)).save(path)


def write_label_png(path: Path, mask: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask.astype(np.uint8), mode="L").save(path)


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def box(y0: int, y1: int, x0: int, x1: int, h: int = H, w: int = W) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def rle_compressed(m: np.ndarray) -> dict:
    r = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    return {"size": list(r["size"]), "counts": r["counts"].decode("ascii")}


def rle_uncompressed(m: np.ndarray) -> dict:
    """COCO's uncompressed RLE: column-major run lengths starting with a (possibly empty) 0-run."""
    flat = m.flatten(order="F").astype(np.uint8)
    counts, cur, run = [], 0, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    return {"size": list(m.shape), "counts": counts}


COCO_CATS = [
    {"id": 1, "name": "person", "supercategory": "person"},
    {"id": 37, "name": "sports ball", "supercategory": "sports"},
    {"id": 46, "name": "wine glass", "supercategory": "kitchen"},
    {"id": 63, "name": "couch", "supercategory": "furniture"},
]
#: image id -> captions; 1000 has no instance, 7 only a crowd region.
COCO_CAPTIONS = {139: ["A person with a ball.", "Someone playing."], 7: ["A crowd."], 1000: ["Nothing here."]}
COCO_IDS = [7, 139, 1000]


def coco_instances(file_names: dict[int, str]) -> dict:
    anns = [
        # a polygon person box rows/cols 5..25 and a small RLE ball inside it: the ball must win
        {
            "id": 1,
            "image_id": 139,
            "category_id": 1,
            "iscrowd": 0,
            "segmentation": [[5, 5, 25, 5, 25, 25, 5, 25]],
            "area": 400,
            "bbox": [5, 5, 20, 20],
        },
        {
            "id": 2,
            "image_id": 139,
            "category_id": 37,
            "iscrowd": 0,
            "segmentation": rle_compressed(box(10, 15, 10, 15)),
            "area": 25,
            "bbox": [10, 10, 5, 5],
        },
        # an uncompressed RLE glass, overlapping a large couch polygon (couch listed later)
        {
            "id": 3,
            "image_id": 139,
            "category_id": 46,
            "iscrowd": 0,
            "segmentation": rle_uncompressed(box(30, 38, 30, 36)),
            "area": 48,
            "bbox": [30, 30, 6, 8],
        },
        {
            "id": 4,
            "image_id": 139,
            "category_id": 63,
            "iscrowd": 0,
            "segmentation": [[28, 28, 49, 28, 49, 39, 28, 39]],
            "area": 200,
            "bbox": [28, 28, 21, 11],
        },
        {
            "id": 5,
            "image_id": 7,
            "category_id": 1,
            "iscrowd": 1,
            "segmentation": rle_uncompressed(box(0, 10, 0, 10)),
            "area": 100,
            "bbox": [0, 0, 10, 10],
        },
    ]
    images = [{"id": i, "file_name": file_names[i], "height": H, "width": W} for i in COCO_IDS]
    return {"images": images, "annotations": anns, "categories": COCO_CATS}


def coco_captions(extra: bool = False) -> dict:
    caps = [
        {"id": 10 * i + k, "image_id": i, "caption": c} for i, cs in COCO_CAPTIONS.items() for k, c in enumerate(cs)
    ]
    if extra:  # val2014 holds images outside minival
        caps.append({"id": 99999, "image_id": 424242, "caption": "Not in minival."})
    return {"images": [], "annotations": caps}


@pytest.fixture
def coco_root(tmp_path: Path) -> Path:
    """The official COCO layout for split val2017."""
    root = tmp_path / "coco"
    names = {i: f"{i:012d}.jpg" for i in COCO_IDS}
    for n in names.values():
        write_jpg(root / "val2017" / n)
    write_json(root / "annotations" / "instances_val2017.json", coco_instances(names))
    write_json(root / "annotations" / "captions_val2017.json", coco_captions())
    return root


@pytest.fixture
def coco_formatted_root(tmp_path: Path) -> Path:
    """The paper's formatted COCO copy."""
    root = tmp_path / "coco_fmt"
    names = {i: f"COCO_val2014_{i:012d}.jpg" for i in COCO_IDS}
    for i in COCO_IDS:
        write_jpg(root / "image" / f"{i:012d}.jpg")
        lab = np.zeros((H, W), np.uint8)
        lab[2:6, 3:9] = 37 if i == 139 else 1
        write_label_png(root / "seg_label" / f"{i:012d}.png", lab)
    inst = coco_instances(names)
    inst["annotations"] = []
    write_json(root / "annotations" / "instances_minival2014.json", inst)
    write_json(root / "annotations" / "captions_val2014.json", coco_captions(extra=True))
    return root


@pytest.fixture
def anno_root(tmp_path: Path) -> Path:
    """The paper's GranDf/OpenPSG layout: anno.json + images + label PNGs."""
    root = tmp_path / "grandf"
    entries = []
    for k, name in enumerate(["sa_10", "sa_2", "sa_33"]):
        write_jpg(root / "images" / f"{name}.jpg")
        lab = np.zeros((H, W), np.uint8)
        lab[0:10, 0:10] = 1
        lab[20:30, 20:30] = 2 + k
        write_label_png(root / "labels" / f"{name}.png", lab)
        entries.append([f"images/{name}.jpg", f"A man and a dog {k}.", f"labels/{name}.png", {"man": 1, "dog": 2 + k}])
    write_json(root / "anno.json", entries)
    return root


@pytest.fixture
def gcg_root(tmp_path: Path) -> Path:
    """GranD-f's native GCG json with RLE masks."""
    root = tmp_path / "grandf_gcg"
    entries = []
    for name in ["sa_5", "sa_1"]:
        write_jpg(root / "images" / f"{name}.jpg")
        entries.append(
            {
                "file_name": f"{name}.jpg",
                "height": H,
                "width": W,
                "caption": '"A red car parked next to two trees."',
                "groundings": {
                    "A red car": {"token_positives": [0, 9], "rle_masks": [rle_compressed(box(0, 20, 0, 20))]},
                    "two trees": {
                        "token_positives": [27, 36],
                        "rle_masks": [rle_compressed(box(25, 35, 0, 5)), rle_compressed(box(25, 35, 40, 45))],
                    },
                    # a small phrase inside the car: the smaller region wins
                    "car door": {"token_positives": [6, 9], "rle_masks": [rle_compressed(box(5, 8, 5, 8))]},
                },
            }
        )
    write_json(root / "GranDf_HA_GCG_val.json", entries)
    return root


PSG_THINGS = ["person", "sports ball"]
PSG_STUFF = ["grass-merged", "sky-other-merged"]


@pytest.fixture
def psg_root(tmp_path: Path) -> Path:
    """PSG's psg.json + panoptic PNGs (segment id = R + 256 G + 256^2 B)."""
    root = tmp_path / "psg"
    data = []
    for iid in [3, 11, 25]:
        write_jpg(root / "coco" / "val2017" / f"{iid:012d}.jpg")
        pan = np.zeros((H, W, 3), np.uint8)
        pan[0:10, :] = (44, 1, 0)  # id 300 = 44 + 256 -> sky (stuff 1 -> category 3)
        pan[20:40, 0:20] = (5, 0, 1)  # id 65541 = 5 + 65536 -> person (category 0)
        pan[30:35, 30:35] = (7, 0, 0)  # id 7 -> sports ball (category 1)
        pan_path = root / "coco" / "panoptic_val2017" / f"{iid:012d}.png"
        pan_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pan).save(pan_path)
        data.append(
            {
                "file_name": f"val2017/{iid:012d}.jpg",
                "pan_seg_file_name": f"panoptic_val2017/{iid:012d}.png",
                "image_id": str(iid),
                "height": H,
                "width": W,
                "segments_info": [
                    {"id": 300, "category_id": 3},
                    {"id": 65541, "category_id": 0},
                    {"id": 7, "category_id": 1},
                ],
                "relations": [[0, 1, 5]],
            }
        )
    write_json(
        root / "psg.json",
        {
            "data": data,
            "thing_classes": PSG_THINGS,
            "stuff_classes": PSG_STUFF,
            "predicate_classes": ["on"],
            "test_image_ids": ["3", "25"],
        },
    )
    return root


@pytest.fixture
def okvqa_root(tmp_path: Path) -> Path:
    root = tmp_path / "okvqa"
    qs, anns = [], []
    for qid, iid, q in [(5, 139, "What sport is this?"), (12, 139, "Who makes the ball?"), (9, 7, "Where is it?")]:
        qs.append({"image_id": iid, "question": q, "question_id": qid})
        anns.append(
            {
                "question_id": qid,
                "image_id": iid,
                "question_type": "other",
                "answer_type": "other",
                "answers": [{"answer": f"a{qid}_{k}", "answer_id": k + 1} for k in range(10)],
            }
        )
    for iid in (7, 139):
        write_jpg(root / "val2014" / f"COCO_val2014_{iid:012d}.jpg")
    write_json(root / "OpenEnded_mscoco_val2014_questions.json", {"questions": qs})
    write_json(root / "mscoco_val2014_annotations.json", {"annotations": anns})
    return root


VIDEO_FPS, VIDEO_FRAMES = 10, 20  # 2 s; frame i is uniformly grey with value 12 i


@pytest.fixture
def star_root(tmp_path: Path) -> Path:
    root = tmp_path / "star"
    vdir = root / "Charades_v1_480"
    vdir.mkdir(parents=True)
    writer = cv2.VideoWriter(str(vdir / "ABC12.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), VIDEO_FPS, (32, 24))
    assert writer.isOpened()
    for i in range(VIDEO_FRAMES):
        writer.write(np.full((24, 32, 3), 12 * i, np.uint8))
    writer.release()
    choices = [
        {"choice_id": 1, "choice": "The cup."},
        {"choice_id": 0, "choice": "The book."},
        {"choice_id": 3, "choice": "The door."},
        {"choice_id": 2, "choice": "The box."},
    ]
    qs = [
        {
            "question_id": "Interaction_T1_13",
            "question": "Which object was taken by the person?",
            "video_id": "ABC12",
            "start": 0.5,
            "end": 1.5,
            "answer": "The cup.",
            "choices": choices,
        },
        {
            "question_id": "Sequence_T1_2",
            "question": "What happened after?",
            "video_id": "ABC12",
            "start": 0.0,
            "end": 5.0,
            "answer": "The box.",
            "choices": choices,
        },
        {
            "question_id": "Interaction_T1_4",
            "question": "What?",
            "video_id": "ABC12",
            "start": 1.0,
            "end": 1.1,
            "answer": "The door.",
            "choices": choices,
        },
    ]
    write_json(root / "STAR_val.json", qs)
    return root
