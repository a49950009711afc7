"""Each loader states its folder layout once (``LAYOUT``): its errors and ``evaluate --help`` show that text."""

from __future__ import annotations

import numpy as np
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


def test_dataset_pictures_keep_16_bit_range(tmp_path):
    """A 16-bit PNG in a data set reads as its picture, not as white (read_rgb uses pictures.to_rgb8)."""
    from PIL import Image

    from tam_widgets.datasets.base import read_rgb

    ramp = (np.linspace(0, 65535, 64).astype(np.uint16)[None, :]).repeat(8, 0)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    rgb = read_rgb(tmp_path / "deep.png")
    assert rgb.shape == (8, 64, 3) and rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, -1].tolist() == [255, 255, 255]
    assert abs(int(rgb[0, 32, 0]) - round(32 / 63 * 255)) <= 1
