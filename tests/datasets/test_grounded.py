from __future__ import annotations

import json

import numpy as np
import pytest

from tam_widgets.datasets import GRANDF_PROMPT, OPENPSG_PROMPT, GranDf, OpenPSG, panoptic_ids

from .conftest import H, W


def test_prompts():
    assert GRANDF_PROMPT == "Write a description for this image using around two sentences:"
    assert OPENPSG_PROMPT == "Write a description for this image using around three sentences:"


@pytest.mark.parametrize("cls,prompt", [(GranDf, GRANDF_PROMPT), (OpenPSG, OPENPSG_PROMPT)])
def test_anno_json(anno_root, cls, prompt):
    ds = cls(anno_root)
    assert ds.format == "anno" and len(ds) == 3
    assert ds.ids == ["sa_2", "sa_10", "sa_33"]
    s = ds[0]
    assert s.prompt == prompt
    assert s.references == ["A man and a dog 1."]
    assert s.categories == {"man": 1, "dog": 3}
    assert s.image.shape == (H, W, 3)
    assert s.label_mask.shape == (H, W) and s.label_mask[5, 5] == 1 and s.label_mask[25, 25] == 3
    assert s.label_mask[35, 5] == 0
    assert s.meta["mask_path"].endswith("labels/sa_2.png")


def test_anno_json_bad_entry(anno_root):
    (anno_root / "anno.json").write_text(json.dumps([["a.jpg", "cap", "a.png"]]))
    with pytest.raises(ValueError, match="entry 0"):
        GranDf(anno_root)


def test_gcg(gcg_root):
    ds = GranDf(gcg_root)
    assert ds.format == "gcg" and ds.ids == ["sa_1", "sa_5"]
    s = ds[1]
    assert s.id == "sa_5" and s.prompt == GRANDF_PROMPT
    assert s.references == ["A red car parked next to two trees."]
    assert s.categories == {"A red car": 1, "two trees": 2, "car door": 3}
    m = s.label_mask
    assert m.dtype == np.uint8
    assert m[15, 15] == 1 and m[6, 6] == 3  # the smaller "car door" wins inside the car
    assert m[30, 2] == 2 and m[30, 42] == 2  # both tree RLEs of one phrase
    assert m[30, 25] == 0
    assert (m == 3).sum() == 9 and (m == 2).sum() == 100
    assert s.meta["phrases"]["two trees"] == [27, 36]


def test_gcg_dict_and_ann_file(gcg_root):
    entries = json.loads((gcg_root / "GranDf_HA_GCG_val.json").read_text())
    (gcg_root / "GranDf_HA_GCG_val.json").unlink()
    as_dict = {e.pop("file_name"): e for e in entries}
    (gcg_root / "custom.json").write_text(json.dumps(as_dict))
    ds = GranDf(gcg_root, ann_file="custom.json")
    assert ds.ids == ["sa_1", "sa_5"] and ds[0].label_mask[6, 6] == 3


def test_gcg_several_files(gcg_root):
    (gcg_root / "other_gcg.json").write_text("[]")
    with pytest.raises(ValueError, match="ann_file"):
        GranDf(gcg_root)


def test_panoptic_ids():
    rgb = np.array([[[44, 1, 0], [5, 0, 1], [0, 0, 0]]], np.uint8)
    assert panoptic_ids(rgb).tolist() == [[300, 65541, 0]]


def test_psg(psg_root):
    ds = OpenPSG(psg_root)
    assert ds.format == "psg" and ds.ids == ["3", "25"]  # test_image_ids
    assert OpenPSG(psg_root, split="all").ids == ["3", "11", "25"]
    assert OpenPSG(psg_root, split="train").ids == ["11"]
    s = ds[0]
    assert s.prompt == OPENPSG_PROMPT and s.references == []
    assert s.categories == {"person": 1, "sports ball": 2, "grass-merged": 3, "sky-other-merged": 4}
    m = s.label_mask
    assert m[5, 5] == 4  # sky: segment id 300 = 44 + 256 * 1
    assert m[25, 5] == 1  # person: segment id 65541 = 5 + 256^2
    assert m[32, 32] == 2  # ball: segment id 7
    assert m[15, 25] == 0
    assert s.meta["relations"] == [[0, 1, 5]]


def test_psg_without_test_ids(psg_root):
    d = json.loads((psg_root / "psg.json").read_text())
    del d["test_image_ids"]
    (psg_root / "psg.json").write_text(json.dumps(d))
    with pytest.raises(ValueError, match="split='all'"):
        OpenPSG(psg_root)
    assert len(OpenPSG(psg_root, split="all")) == 3


def test_psg_missing_images(psg_root):
    import shutil

    shutil.rmtree(psg_root / "coco" / "val2017")
    with pytest.raises(FileNotFoundError, match="val2017/000000000003.jpg"):
        OpenPSG(psg_root)


def test_grounded_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Expected layout"):
        GranDf(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"anno\.json(.|\n)*Expected layout"):
        OpenPSG(tmp_path / "empty")


def test_anno_missing_label(anno_root):
    (anno_root / "labels" / "sa_2.png").unlink()
    ds = GranDf(anno_root)
    with pytest.raises(FileNotFoundError, match="sa_2.png"):
        ds[0]
    assert GranDf(anno_root, load_pixels=False)[0].label_mask is None
