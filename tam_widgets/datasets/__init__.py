"""Evaluation datasets: loaders yielding one :class:`Sample` type, shardable across processes.

Every loader is a sequence sorted by sample id (``len(ds)``, ``ds[k]``, ``for s in ds``) with
``ds.shard(i, n)`` (or the ``shard=(i, n)`` argument) keeping every ``n``-th sample from ``i``;
pixels are read only when a sample is accessed (``load_pixels=False`` skips them).

Example::

    from tam_widgets.datasets import STAR, CocoCaption, GranDf, OKVQA, OpenPSG

    ds = CocoCaption("/data/coco", layout="formatted", shard=(rank, world_size))
    for s in ds:
        s.image, s.prompt, s.references, s.label_mask, s.categories
"""

from .base import EvalDataset, Sample, merge_label_masks
from .coco import COCO_CAPTION_PROMPT, COCO_RENAMES, CocoCaption, coco_categories
from .grounded import GRANDF_PROMPT, OPENPSG_PROMPT, GranDf, OpenPSG, panoptic_ids
from .video import STAR, read_video_frames
from .vqa import OKVQA

__all__ = [
    "COCO_CAPTION_PROMPT",
    "COCO_RENAMES",
    "GRANDF_PROMPT",
    "OKVQA",
    "OPENPSG_PROMPT",
    "STAR",
    "CocoCaption",
    "EvalDataset",
    "GranDf",
    "OpenPSG",
    "Sample",
    "coco_categories",
    "merge_label_masks",
    "panoptic_ids",
    "read_video_frames",
]
