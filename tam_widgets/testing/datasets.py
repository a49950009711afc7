"""Small datasets in the real on-disk formats, written from scikit-image's photos (tests, benchmarks)."""

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
