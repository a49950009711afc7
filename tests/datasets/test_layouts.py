"""Each loader states its folder layout once (``LAYOUT``): its errors and ``evaluate --help`` show that text."""

from __future__ import annotations

import pytest

from tam_widgets.datasets import OKVQA, STAR, CocoCaption, GranDf, OpenPSG


@pytest.mark.parametrize("cls", [CocoCaption, GranDf, OpenPSG, OKVQA, STAR])
def test_a_missing_root_names_the_layout(cls, tmp_path):
    assert "<root>/" in cls.LAYOUT
    with pytest.raises(FileNotFoundError) as err:
        cls(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value) and cls.LAYOUT in str(err.value)


def test_a_broken_annotation_file_is_named(coco_root):
    path = coco_root / "annotations" / "instances_val2017.json"
    path.write_text('{"images": [')
    with pytest.raises(ValueError, match=r"instances_val2017\.json is not valid JSON \(.*line 1.*\)(.|\n)*<root>/"):
        CocoCaption(coco_root)
