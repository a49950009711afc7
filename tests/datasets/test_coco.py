from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.datasets import COCO_CAPTION_PROMPT, CocoCaption, Sample

from .conftest import COCO_CAPTIONS, H, W

CATS = {"person": 1, "ball": 37, "glass": 46, "couch": 63}


def test_coco_layout_samples(coco_root):
    ds = CocoCaption(coco_root, split="val2017")
    assert ds.layout == "coco" and len(ds) == 3
    assert ds.ids == ["7", "139", "1000"]  # numeric order
    samples = list(ds)
    assert all(isinstance(s, Sample) for s in samples)
    for s in samples:
        assert s.prompt == COCO_CAPTION_PROMPT == "Write a one-sentence caption for this image:"
        assert s.references == COCO_CAPTIONS[int(s.id)]
        assert s.categories == CATS
        assert s.image.shape == (H, W, 3) and s.image.dtype == np.uint8
        assert s.label_mask.shape == (H, W) and s.label_mask.dtype == np.uint8
        assert s.frames is None and s.answers == []


def test_coco_merged_mask(coco_root):
    ds = CocoCaption(coco_root)
    m = ds[1].label_mask
    assert ds[1].id == "139"
    assert m[20, 20] == 1  # polygon person
    assert m[12, 12] == 37  # RLE ball inside the person: smaller wins
    assert m[33, 33] == 46  # uncompressed-RLE glass over the larger couch, listed first: smaller wins
    assert m[30, 45] == 63  # couch polygon
    assert m[2, 2] == 0 and m[0, 49] == 0
    assert set(np.unique(m)) == {0, 1, 37, 46, 63}
    assert (m == 37).sum() == 25
    crowd = ds[0].label_mask
    assert crowd[5, 5] == 1 and crowd.sum() == 100
    assert not ds[2].label_mask.any()
    assert not CocoCaption(coco_root, include_crowd=False)[0].label_mask.any()


def test_coco_formatted_layout(coco_formatted_root):
    ds = CocoCaption(coco_formatted_root)  # auto-detected
    assert ds.layout == "formatted" and len(ds) == 3
    s = ds[1]
    assert s.id == "139" and s.references == COCO_CAPTIONS[139]
    assert s.categories == CATS
    assert s.label_mask.dtype == np.uint8 and s.label_mask[3, 4] == 37 and s.label_mask[10, 10] == 0
    assert s.meta["mask_path"].endswith("seg_label/000000000139.png")
    assert CocoCaption(coco_formatted_root, layout="formatted")[0].label_mask[3, 4] == 1


def test_coco_no_pixels(coco_root):
    s = CocoCaption(coco_root, load_pixels=False)[0]
    assert s.image is None and s.label_mask is None and s.references == ["A crowd."]


def test_coco_errors(tmp_path, coco_root):
    with pytest.raises(FileNotFoundError, match="Expected layout"):
        CocoCaption(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"instances_val2017\.json(.|\n)*seg_label/<id:012d>\.png"):
        CocoCaption(tmp_path)  # exists, but holds neither layout: both are described
    with pytest.raises(FileNotFoundError, match="instances_val2014.json"):
        CocoCaption(coco_root, split="val2014")
    with pytest.raises(FileNotFoundError, match="instances_minival2014.json"):
        CocoCaption(coco_root, layout="formatted")
    with pytest.raises(ValueError, match="layout"):
        CocoCaption(coco_root, layout="bogus")
    (coco_root / "annotations" / "captions_val2017.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"captions_val2017\.json(.|\n)*Expected layout"):
        CocoCaption(coco_root)


def test_coco_missing_image_dir(coco_root):
    import shutil

    shutil.rmtree(coco_root / "val2017")
    with pytest.raises(FileNotFoundError, match="val2017"):
        CocoCaption(coco_root)
