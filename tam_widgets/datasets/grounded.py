"""GranDf and OpenPSG: longer descriptions with phrase/category label masks.

Each loader picks its source by the files found in ``root`` (first match wins):

1. ``anno.json`` -- the paper's formatted copy: a list of
   ``[image_rel_path, caption, label_png_rel_path, {name: label}]`` (paths relative to root).
2. ``psg.json`` -- PSG's panoptic annotations (``data: [{file_name, pan_seg_file_name,
   segments_info: [{id, category_id}]}]``, ``thing_classes``, ``stuff_classes``); the panoptic PNG
   stores segment ids as ``R + 256 G + 256^2 B``; a segment's label is ``category_id + 1`` and
   ``categories`` maps every class name (things then stuff) to that label.
3. ``*gcg*.json`` (or ``ann_file=``) -- GranD-f's GCG format: a list (or ``{key: entry}`` dict) of
   ``{"file_name" | "image_id", "caption", "groundings": {phrase: {"token_positives": [...],
   "rle_masks": [RLE, ...]}}}``; phrases get labels 1, 2, ... in order and
   ``categories = {phrase: label}``.

Overlapping regions (formats 2 and 3): the smaller region wins (see ``merge_label_masks``).

Example::

    from tam_widgets.datasets import GranDf, OpenPSG

    ds = GranDf("/data/GranDf")        # anno.json, or a GCG json + images/
    s = ds[0]
    s.prompt, s.references[0], s.categories, s.label_mask.shape
    OpenPSG("/data/psg", split="test")  # anno.json, or psg.json + images + panoptic PNGs
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from .base import EvalDataset, Sample, decode_rle, merge_label_masks, missing, read_json, read_label_png, read_rgb

__all__ = ["GRANDF_PROMPT", "OPENPSG_PROMPT", "GranDf", "OpenPSG", "panoptic_ids"]

GRANDF_PROMPT = "Write a description for this image using around two sentences:"
"""The paper's GranD-f prompt.

>>> GranDf.prompt == GRANDF_PROMPT
True
"""
OPENPSG_PROMPT = "Write a description for this image using around three sentences:"
"""The paper's OpenPSG prompt.

>>> OpenPSG.prompt == OPENPSG_PROMPT
True
"""

_LAYOUT = """\
  <root>/anno.json       list of [image_rel_path, caption, label_png_rel_path, {name: label}]
                         (the paper's formatted copy; paths relative to <root>)
or
  <root>/psg.json        PSG panoptic annotations; images and panoptic PNGs under <root>,
                         <root>/coco or <root>/images (or pass image_root=/seg_root=)
or
  <root>/<name containing 'gcg'>.json   GranD-f GCG entries {file_name, caption, groundings};
                         images under <root>/images, <root>/GranDf_HA_images/{val,test,train} or <root>
                         (or pass ann_file=, image_root=)"""

_IMAGE_DIR_CANDIDATES = (
    "",
    "images",
    "image",
    "coco",
    "GranDf_HA_images/val",
    "GranDf_HA_images/test",
    "GranDf_HA_images/train",
    "GranDf_HA_images",
)


def panoptic_ids(rgb: np.ndarray) -> np.ndarray:
    """Segment ids of a COCO-style panoptic PNG (``R + 256 G + 256^2 B``) as ``int64``.

    >>> panoptic_ids(np.array([[[1, 0, 0], [4, 1, 0]]], np.uint8))
    array([[  1, 260]])
    """
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def _find_dir(root: Path, rel: str, given: str | Path | None, what: str) -> Path:
    """The first candidate directory under ``root`` holding ``rel`` (or ``given``)."""
    cands = [Path(given)] if given is not None else [root / c for c in _IMAGE_DIR_CANDIDATES]
    for d in cands:
        if (d / rel).is_file():
            return d
    tried = ", ".join(str(d) for d in cands)
    raise FileNotFoundError(f"{what} {rel!r} not found in any of: {tried}\nExpected layout:\n{_LAYOUT}")


class _GroundedDescription(EvalDataset):
    """Shared reader of the three formats (see the module docstring)."""

    prompt = ""
    #: The expected folder layouts (shown in error messages and ``tam-widgets evaluate --help``).
    LAYOUT = _LAYOUT

    def __init__(
        self,
        root: str | Path,
        prompt: str | None = None,
        ann_file: str | Path | None = None,
        image_root: str | Path | None = None,
        seg_root: str | Path | None = None,
        split: Literal["test", "train", "all"] = "test",
        shard: tuple[int, int] | None = None,
        load_pixels: bool = True,
    ) -> None:
        super().__init__(shard=shard, load_pixels=load_pixels)
        self.root = Path(root)
        if prompt is not None:
            self.prompt = prompt
        layout = _LAYOUT
        if not self.root.is_dir():
            raise missing(self.root, layout, f"{type(self).__name__} root directory")
        self.split = split
        if ann_file is not None:
            path = Path(ann_file)
            path = path if path.is_absolute() or path.exists() else self.root / path
            fmt = "anno" if path.name == "anno.json" else "psg" if path.name == "psg.json" else "gcg"
        elif (self.root / "anno.json").is_file():
            path, fmt = self.root / "anno.json", "anno"
        elif (self.root / "psg.json").is_file():
            path, fmt = self.root / "psg.json", "psg"
        else:
            gcg = sorted(p for p in self.root.glob("*.json") if "gcg" in p.name.lower())
            if not gcg:
                raise FileNotFoundError(
                    f"no annotation file in {self.root} (looked for anno.json, psg.json, *gcg*.json)\n"
                    f"Expected layout:\n{layout}"
                )
            if len(gcg) > 1:
                raise ValueError(f"several GCG files in {self.root}: {[p.name for p in gcg]}; pass ann_file=")
            path, fmt = gcg[0], "gcg"
        self.ann_file, self.format = path, fmt
        data = read_json(path, layout)
        records = {"anno": self._parse_anno, "psg": self._parse_psg, "gcg": self._parse_gcg}[fmt](
            data, image_root, seg_root
        )
        self._set_records(records)

    # -- parsers -------------------------------------------------------------------------------
    def _parse_anno(self, data: Any, image_root: Any, seg_root: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise ValueError(f"{self.ann_file}: expected a list of [image, caption, label_png, {{name: label}}]")
        img_root = Path(image_root) if image_root is not None else self.root
        lab_root = Path(seg_root) if seg_root is not None else self.root
        records, seen = [], {}
        for k, item in enumerate(data):
            if not (isinstance(item, list | tuple) and len(item) >= 4 and isinstance(item[3], dict)):
                raise ValueError(
                    f"{self.ann_file}: entry {k} is not [image_rel_path, caption, label_png_rel_path, {{name: label}}]"
                )
            image, caption, label, cats = item[:4]
            sid = _unique(Path(str(image)).stem, seen)
            records.append(
                dict(
                    id=sid,
                    image_path=img_root / image,
                    mask_path=lab_root / label,
                    caption=str(caption),
                    categories={str(n): int(v) for n, v in cats.items()},
                    index=k,
                )
            )
        return records

    def _parse_psg(self, data: Any, image_root: Any, seg_root: Any) -> list[dict[str, Any]]:
        if not isinstance(data, dict) or "data" not in data:
            raise ValueError(f"{self.ann_file}: expected a dict with 'data', 'thing_classes', 'stuff_classes'")
        classes = list(data.get("thing_classes", [])) + list(data.get("stuff_classes", []))
        self.psg_categories = {str(n): i + 1 for i, n in enumerate(classes)}
        entries = data["data"]
        if self.split != "all":
            if "test_image_ids" not in data:
                raise ValueError(f"{self.ann_file} has no 'test_image_ids'; use split='all'")
            test = {str(i) for i in data["test_image_ids"]}
            want = self.split == "test"
            entries = [e for e in entries if (str(e.get("image_id")) in test) == want]
        if not entries:
            return []
        img_dir = _find_dir(self.root, entries[0]["file_name"], image_root, "image")
        seg_dir = _find_dir(self.root, entries[0]["pan_seg_file_name"], seg_root, "panoptic PNG")
        records, seen = [], {}
        for e in entries:
            sid = _unique(str(e.get("image_id", Path(e["file_name"]).stem)), seen)
            records.append(
                dict(
                    id=sid,
                    image_path=img_dir / e["file_name"],
                    pan_path=seg_dir / e["pan_seg_file_name"],
                    segments=[(int(s["id"]), int(s["category_id"]) + 1) for s in e.get("segments_info", [])],
                    caption=None,
                    categories=self.psg_categories,
                    relations=e.get("relations", []),
                )
            )
        return records

    def _parse_gcg(self, data: Any, image_root: Any, seg_root: Any) -> list[dict[str, Any]]:
        if isinstance(data, dict):
            entries = [dict(v, _key=k) for k, v in data.items() if isinstance(v, dict)]
        elif isinstance(data, list):
            entries = list(data)
        else:
            raise ValueError(f"{self.ann_file}: expected a list or dict of GCG entries")
        records, seen, img_dir = [], {}, None
        for k, e in enumerate(entries):
            if "caption" not in e or "groundings" not in e:
                raise ValueError(f"{self.ann_file}: entry {k} lacks 'caption' or 'groundings'")
            name = e.get("file_name") or e.get("_key") or e.get("image_id")
            if name is None:
                raise ValueError(f"{self.ann_file}: entry {k} has no 'file_name' or 'image_id'")
            name = str(name)
            if not Path(name).suffix:
                name += ".jpg"
            if img_dir is None:
                img_dir = _find_dir(self.root, name, image_root, "image")
            phrases = [(str(p), g) for p, g in e["groundings"].items()]
            records.append(
                dict(
                    id=_unique(Path(name).stem, seen),
                    image_path=img_dir / name,
                    caption=str(e["caption"]).strip().strip('"').strip(),
                    phrases=phrases,
                    categories={p: i + 1 for i, (p, _) in enumerate(phrases)},
                    height=e.get("height"),
                    width=e.get("width"),
                )
            )
        return records

    # -- loading -------------------------------------------------------------------------------
    def _load(self, rec: dict[str, Any]) -> Sample:
        meta: dict[str, Any] = dict(image_path=str(rec["image_path"]), format=self.format)
        image = mask = None
        if self.format == "anno":
            meta["mask_path"] = str(rec["mask_path"])
            if self.load_pixels:
                image, mask = read_rgb(rec["image_path"]), read_label_png(rec["mask_path"])
        elif self.format == "psg":
            meta["mask_path"] = str(rec["pan_path"])
            meta["relations"] = rec["relations"]
            if self.load_pixels:
                image = read_rgb(rec["image_path"])
                mask = self._panoptic_mask(rec)
        else:
            meta["phrases"] = {p: g.get("token_positives") for p, g in rec["phrases"]}
            if self.load_pixels:
                image = read_rgb(rec["image_path"])
                h, w = image.shape[:2]
                masks = []
                for lab, (_, g) in enumerate(rec["phrases"], start=1):
                    m = np.zeros((h, w), np.uint8)
                    for rle in g.get("rle_masks", []):
                        m |= decode_rle(rle, h, w)
                    masks.append((lab, m))
                mask = merge_label_masks(masks, (h, w))
        return Sample(
            id=rec["id"],
            prompt=self.prompt,
            image=image,
            references=[rec["caption"]] if rec["caption"] else [],
            label_mask=mask,
            categories=dict(rec["categories"]),
            meta=meta,
        )

    @staticmethod
    def _panoptic_mask(rec: dict[str, Any]) -> np.ndarray:
        path = Path(rec["pan_path"])
        if not path.is_file():
            raise FileNotFoundError(f"panoptic PNG not found: {path}")
        with Image.open(path) as im:
            ids = panoptic_ids(np.asarray(im.convert("RGB")))
        masks = [(lab, ids == sid) for sid, lab in rec["segments"]]
        return merge_label_masks(masks, ids.shape)


def _unique(sid: str, seen: dict[str, int]) -> str:
    """``sid``, or ``sid#k`` when it was already used ``k`` times."""
    k = seen.get(sid, 0)
    seen[sid] = k + 1
    return sid if k == 0 else f"{sid}#{k}"


class GranDf(_GroundedDescription):
    """GranD-f grounded captions (prompt: "... around two sentences:").

    Args:
        root: holds ``anno.json`` (paper layout) or a ``*gcg*.json`` GCG file plus images.
        prompt: override the prompt.
        ann_file: an explicit annotation file (relative to ``root`` or absolute).
        image_root, seg_root: override where images / label PNGs are looked up.
        split: PSG only (``psg.json`` in root): ``"test"``, ``"train"`` or ``"all"``.
        shard: ``(i, n)``; load_pixels: False skips reading images and masks.

    References are ``[caption]``; ``categories`` is the per-image ``{name: label}``.

    Example (illustrative: needs the data set; layouts in ``tam-widgets evaluate --help``)::

        ds = GranDf("/data/grandf", shard=(0, 4))
        s = ds[0]; s.prompt, s.references, s.categories
    """

    prompt = GRANDF_PROMPT


class OpenPSG(_GroundedDescription):
    """OpenPSG descriptions (prompt: "... around three sentences:").

    Same arguments and formats as :class:`GranDf`; with ``psg.json`` the samples have no reference
    caption, ``split`` selects PSG's ``test_image_ids`` (default) or the rest, and the label of a
    segment is its ``category_id + 1``.

    Example (illustrative: needs the data set)::

        ds = OpenPSG("/data/openpsg", load_pixels=False)  # ids, prompts and categories only
        len(ds), ds[0].prompt
    """

    prompt = OPENPSG_PROMPT
