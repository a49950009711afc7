"""The common sample type, the shardable dataset base class and file helpers.

Example::

    from tam_widgets.datasets import CocoCaption

    ds = CocoCaption("/data/coco").shard(0, 4)  # this process's quarter, sorted by id
    for s in ds:
        print(s.id, s.prompt, s.image.shape, s.references[:1])
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["EvalDataset", "Sample", "merge_label_masks", "natural_key"]


@dataclass
class Sample:
    """One evaluation sample, the same type for every loader.

    Attributes:
        id: unique id within its dataset (the sort key of the stable order).
        prompt: the text prompt to give the model.
        image: RGB ``uint8`` array ``[H, W, 3]`` (None for videos or with ``load_pixels=False``).
        frames: list of RGB ``uint8`` arrays for a video sample, else None.
        references: reference captions (empty when there are none).
        label_mask: 2-D integer array of category labels, 0 = background, or None.
        categories: ``{name: label}`` for ``label_mask``, or None.
        answers: ground-truth answers (VQA / video QA), else empty.
        meta: anything else (source paths, original ids, ...).

    >>> s = Sample(id="42", prompt="What animal is this?", image=np.zeros((4, 6, 3), np.uint8), answers=["cat"] * 10)
    >>> s.references, s.label_mask is None
    ([], True)
    """

    id: str
    prompt: str
    image: np.ndarray | None = None
    frames: list[np.ndarray] | None = None
    references: list[str] = field(default_factory=list)
    label_mask: np.ndarray | None = None
    categories: dict[str, int] | None = None
    answers: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def natural_key(s: str) -> tuple:
    """Sort key ordering digit runs numerically: ``"9" < "10"``, ``"a2" < "a10"``."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s))


class EvalDataset(Sequence):
    """Base class: an indexable, shardable list of samples in a stable order (sorted by id).

    Subclasses parse their annotation files into light records (dicts with an ``"id"``) and call
    :meth:`_set_records`; pixels are read only when a sample is accessed (``_load``).

    Example::

        shards = [ds.shard(i, 3) for i in range(3)]  # disjoint; together exactly ``ds``
    """

    prompt: str = ""
    #: The expected folder layout, stated once per loader (error messages, ``tam-widgets evaluate --help``).
    LAYOUT: str = ""

    def __init__(self, shard: tuple[int, int] | None = None, load_pixels: bool = True) -> None:
        self.load_pixels = load_pixels
        self._shard = shard
        self._records: list[dict[str, Any]] = []

    # -- records -------------------------------------------------------------------------------
    def _set_records(self, records: list[dict[str, Any]]) -> None:
        """Sort records by id (checking uniqueness), then apply the constructor's ``shard``."""
        records = sorted(records, key=lambda r: (natural_key(r["id"]), r["id"]))
        for a, b in zip(records, records[1:]):
            if a["id"] == b["id"]:
                raise ValueError(f"{type(self).__name__}: duplicate sample id {a['id']!r}")
        self._records = records
        if self._shard is not None:
            i, n = self._shard
            self._records = records[_check_shard(i, n) :: n]

    def shard(self, i: int, n: int) -> EvalDataset:
        """Every ``n``-th sample starting at ``i`` (a shallow copy; the union over ``i`` is the whole)."""
        new = copy.copy(self)
        new._records = self._records[_check_shard(i, n) :: n]
        return new

    @property
    def ids(self) -> list[str]:
        """Sample ids in iteration order."""
        return [r["id"] for r in self._records]

    # -- sequence protocol ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, k: int) -> Sample:  # type: ignore[override]
        if isinstance(k, slice):
            raise TypeError("slicing is not supported; use shard(i, n) or index one sample")
        return self._load(self._records[k])

    def __iter__(self) -> Iterator[Sample]:
        for r in self._records:
            yield self._load(r)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)})"

    def _load(self, rec: dict[str, Any]) -> Sample:
        raise NotImplementedError


def _check_shard(i: int, n: int) -> int:
    if not (isinstance(n, int) and isinstance(i, int) and n >= 1 and 0 <= i < n):
        raise ValueError(f"shard index must satisfy 0 <= i < n, got i={i!r}, n={n!r}")
    return i


# -- file helpers ------------------------------------------------------------------------------
def missing(path: Path, layout: str, what: str = "file") -> FileNotFoundError:
    """A FileNotFoundError naming the missing path and the expected layout."""
    return FileNotFoundError(f"{what} not found: {path}\nExpected layout:\n{layout}")


def read_json(path: Path, layout: str) -> Any:
    """Load a JSON file, or raise :func:`missing` with the layout when it does not exist."""
    if not path.is_file():
        raise missing(path, layout)
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:  # name the file: a bare "Expecting value" helps nobody
            raise ValueError(f"{path} is not valid JSON ({e}); expected layout:\n{layout}") from None


def require_dir(path: Path, layout: str) -> Path:
    if not path.is_dir():
        raise missing(path, layout, "directory")
    return path


def read_rgb(path: Path | str) -> np.ndarray:
    """An image file as an RGB ``uint8`` array ``[H, W, 3]``."""
    from ..pictures import to_rgb8

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    return to_rgb8(path)  # 16-bit and alpha pictures keep their range; unreadable ones are refused


def read_label_png(path: Path | str) -> np.ndarray:
    """A label PNG as a 2-D array of labels (8-bit greyscale/palette indices used as is)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"label mask not found: {path}")
    with Image.open(path) as im:
        a = np.array(im)
    if a.ndim == 3:
        if not (a[..., :1] == a[..., :3]).all():
            raise ValueError(f"label mask {path} has {a.shape[2]} differing channels; expected 8-bit greyscale")
        a = a[..., 0]
    return a


def merge_label_masks(masks: Sequence[tuple[int, np.ndarray]], shape: tuple[int, int]) -> np.ndarray:
    """Paint binary masks into one label mask (0 = background).

    Overlap rule: masks are painted by decreasing area (ties: input order), so where regions
    overlap the **smaller** one wins (a person on a couch keeps its pixels). The result is
    ``uint8`` when every label fits, else ``int32``.

    >>> couch = np.zeros((4, 4), bool); couch[1:, :] = True
    >>> person = np.zeros((4, 4), bool); person[2:, 1:3] = True
    >>> merge_label_masks([(63, couch), (1, person)], (4, 4))  # the person stays on top of the couch
    array([[ 0,  0,  0,  0],
           [63, 63, 63, 63],
           [63,  1,  1, 63],
           [63,  1,  1, 63]], dtype=uint8)
    """
    labels = [int(lab) for lab, _ in masks]
    dtype = np.uint8 if all(0 <= v < 256 for v in labels) else np.int32
    out = np.zeros(shape, dtype=dtype)
    areas = [int(np.count_nonzero(m)) for _, m in masks]
    for k in sorted(range(len(masks)), key=lambda k: -areas[k]):
        lab, m = masks[k]
        if m.shape != tuple(shape):
            raise ValueError(f"mask of shape {m.shape} does not match the image shape {tuple(shape)}")
        out[m.astype(bool)] = lab
    return out


def decode_rle(rle: dict[str, Any] | list, h: int | None = None, w: int | None = None) -> np.ndarray:
    """A COCO segmentation (polygons, compressed or uncompressed RLE) as a ``uint8`` ``[H, W]`` mask.

    This is ``pycocotools.coco.COCO.annToMask`` without building a ``COCO`` index.
    """
    from pycocotools import mask as mask_utils

    if isinstance(rle, list):  # polygons
        if h is None or w is None:
            raise ValueError("polygon segmentations need the image height and width")
        obj = mask_utils.merge(mask_utils.frPyObjects(rle, h, w))
    elif isinstance(rle.get("counts"), list):  # uncompressed RLE
        hh, ww = rle["size"]
        obj = mask_utils.frPyObjects(rle, hh, ww)
    else:
        obj = rle
    with warnings.catch_warnings():  # pycocotools' numpy-2 "__array__ copy keyword" notice
        warnings.simplefilter("ignore", DeprecationWarning)
        m = mask_utils.decode(obj)
    if m.ndim == 3:  # a list of RLEs decodes to [H, W, k]
        m = m.max(axis=2)
    return m.astype(np.uint8)
