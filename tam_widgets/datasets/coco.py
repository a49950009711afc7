"""COCO Caption with per-category label masks (the paper's captioning benchmark).

Example::

    from tam_widgets.datasets import CocoCaption

    ds = CocoCaption("/data/coco", split="val2017")          # official COCO files
    ds = CocoCaption("/data/coco_tam", layout="formatted")   # the paper's formatted copy
    s = ds[0]
    s.prompt, s.references, s.label_mask.max(), s.categories["ball"]
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from .base import EvalDataset, Sample, decode_rle, merge_label_masks, read_json, read_label_png, read_rgb, require_dir

__all__ = ["COCO_CAPTION_PROMPT", "COCO_RENAMES", "CocoCaption", "coco_categories"]

COCO_CAPTION_PROMPT = "Write a one-sentence caption for this image:"
"""The paper's captioning prompt (COCO Caption, Table 3).

>>> CocoCaption.prompt == COCO_CAPTION_PROMPT
True
"""
COCO_RENAMES = {"sports ball": "ball", "wine glass": "glass"}
"""The paper's two shortened COCO category names (a caption says "ball", not "sports ball").

>>> coco_categories({"categories": [{"id": 37, "name": "sports ball"}]})
{'ball': 37}
"""

_LAYOUT_COCO = """\
  <root>/annotations/captions_<split>.json
  <root>/annotations/instances_<split>.json
  <root>/<split>/<file_name>            (e.g. val2017/000000000139.jpg)"""
_LAYOUT_FORMATTED = """\
  <root>/annotations/instances_minival2014.json
  <root>/annotations/captions_val2014.json
  <root>/image/<id:012d>.jpg
  <root>/seg_label/<id:012d>.png        (8-bit greyscale, pixel = COCO category id)"""


def coco_categories(instances: dict[str, Any], renames: dict[str, str] | None = None) -> dict[str, int]:
    """``{name: id}`` from a COCO instances dict, in file order, with the paper's renames applied.

    >>> coco_categories({"categories": [{"id": 1, "name": "person"}, {"id": 46, "name": "wine glass"}]})
    {'person': 1, 'glass': 46}
    """
    renames = COCO_RENAMES if renames is None else renames
    return {renames.get(c["name"], c["name"]): int(c["id"]) for c in instances.get("categories", [])}


class CocoCaption(EvalDataset):
    """COCO captions with a merged label mask per image.

    Args:
        root: dataset root.
        split: the official split name (``layout="coco"`` only), e.g. ``"val2017"``.
        layout: ``"coco"`` (official files; masks built from the instance polygons/RLEs),
            ``"formatted"`` (the paper's copy; masks read from ``seg_label/``) or ``"auto"``
            (``formatted`` when ``annotations/instances_minival2014.json`` exists, else ``coco``).
        include_crowd: also paint ``iscrowd`` regions (``layout="coco"``).
        prompt: the captioning prompt.
        shard: ``(i, n)`` to keep every ``n``-th sample from ``i``.
        load_pixels: read images and masks (False: only ids, prompts and captions).

    Example (a three-picture copy of the paper's layout, written on the spot):

    >>> import tempfile
    >>> from tam_widgets.testing.datasets import coco_formatted
    >>> ds = CocoCaption(coco_formatted(tempfile.mkdtemp()))
    >>> s = ds[1]
    >>> len(ds), s.id, s.references, s.categories["cat"], s.image.shape
    (3, '2', ['A photo of a cat on a table.'], 17, (300, 451, 3))
    >>> [x.id for x in ds.shard(1, 2)]  # what process 1 of 2 evaluates
    ['2']

    Samples are the images of the instances file (sorted by id; ``id`` is the image id as a
    string). ``layout="coco"`` masks: every instance is decoded like ``COCO.annToMask`` and
    painted with its category id, larger instances first, so a smaller overlapping instance wins.
    """

    prompt = COCO_CAPTION_PROMPT
    #: The expected folder layouts (shown in error messages and ``tam-widgets evaluate --help``).
    LAYOUT = (
        f"layout='coco' (official files):\n{_LAYOUT_COCO}\n"
        f"or layout='formatted' (the paper's copy):\n{_LAYOUT_FORMATTED}"
    )

    def __init__(
        self,
        root: str | Path,
        split: str = "val2017",
        layout: Literal["coco", "formatted", "auto"] = "auto",
        include_crowd: bool = True,
        prompt: str = COCO_CAPTION_PROMPT,
        shard: tuple[int, int] | None = None,
        load_pixels: bool = True,
    ) -> None:
        super().__init__(shard=shard, load_pixels=load_pixels)
        self.root = Path(root)
        self.prompt = prompt
        self.split = split
        self.include_crowd = include_crowd
        ann = self.root / "annotations"
        auto = layout == "auto"
        if auto:
            layout = "formatted" if (ann / "instances_minival2014.json").is_file() else "coco"
        if layout not in ("coco", "formatted"):
            raise ValueError(f"layout must be 'coco', 'formatted' or 'auto', got {layout!r}")
        self.layout = layout
        if not self.root.is_dir():
            raise FileNotFoundError(f"COCO root not found: {self.root}\nExpected layout, {self.LAYOUT}")

        if layout == "coco":
            lay = _LAYOUT_COCO.replace("<split>", split)
            if auto:
                lay += f"\nor, for the paper's formatted copy (layout='formatted'):\n{_LAYOUT_FORMATTED}"
            instances = read_json(ann / f"instances_{split}.json", lay)
            captions = read_json(ann / f"captions_{split}.json", lay)
            self.image_dir = require_dir(self.root / split, lay)
        else:
            lay = _LAYOUT_FORMATTED
            instances = read_json(ann / "instances_minival2014.json", lay)
            captions = read_json(ann / "captions_val2014.json", lay)
            self.image_dir = require_dir(self.root / "image", lay)
            self.label_dir = require_dir(self.root / "seg_label", lay)
        if "images" not in instances or "categories" not in instances:
            raise ValueError(f"{ann}: the instances file has no 'images'/'categories'; expected layout:\n{lay}")

        self.categories = coco_categories(instances)
        refs: dict[int, list[str]] = defaultdict(list)
        for c in captions.get("annotations", []):
            refs[int(c["image_id"])].append(str(c["caption"]).strip())
        anns: dict[int, list[dict]] = defaultdict(list)
        if layout == "coco":
            for a in instances.get("annotations", []):
                if include_crowd or not a.get("iscrowd", 0):
                    anns[int(a["image_id"])].append(a)

        records = []
        for im in instances["images"]:
            iid = int(im["id"])
            records.append(
                dict(
                    id=str(iid),
                    image_id=iid,
                    file_name=im.get("file_name", f"{iid:012d}.jpg"),
                    height=int(im.get("height", 0)),
                    width=int(im.get("width", 0)),
                    references=refs.get(iid, []),
                    anns=sorted(anns.get(iid, []), key=lambda a: a.get("id", 0)),
                )
            )
        self._set_records(records)

    def _load(self, rec: dict[str, Any]) -> Sample:
        iid = rec["image_id"]
        if self.layout == "coco":
            image_path = self.image_dir / rec["file_name"]
            mask_path = None
        else:
            image_path = self.image_dir / f"{iid:012d}.jpg"
            mask_path = self.label_dir / f"{iid:012d}.png"
        meta = dict(image_id=iid, image_path=str(image_path), layout=self.layout)
        if mask_path is not None:
            meta["mask_path"] = str(mask_path)
        image = mask = None
        if self.load_pixels:
            image = read_rgb(image_path)
            if mask_path is not None:
                mask = read_label_png(mask_path)
            else:
                h, w = rec["height"] or image.shape[0], rec["width"] or image.shape[1]
                inst = [(int(a["category_id"]), decode_rle(a["segmentation"], h, w)) for a in rec["anns"]]
                mask = merge_label_masks(inst, (h, w))
        return Sample(
            id=rec["id"],
            prompt=self.prompt,
            image=image,
            references=list(rec["references"]),
            label_mask=mask,
            categories=dict(self.categories),
            meta=meta,
        )
