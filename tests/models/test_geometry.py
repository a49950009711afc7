"""Adapter geometry that needs no model: crops, tiles, stitching, the registry's errors."""

from types import SimpleNamespace

import numpy as np
import pytest

from tam_widgets.models import SUPPORTED, adapter_for, register_adapter
from tam_widgets.models.base import Adapter
from tam_widgets.models.internvl import stitch_order, tile_layout
from tam_widgets.models.llava import center_crop_box


def test_center_crop_box_landscape_and_portrait():
    # 480x640 picture, short side -> 336: 336x448, centre crop 336x336 keeps x in [56, 392] -> /0.7.
    x0, y0, x1, y1 = center_crop_box(480, 640, 336, 336, 336)
    assert (y0, y1) == pytest.approx((0, 480))
    assert x0 == pytest.approx(56 / 0.7) and x1 == pytest.approx(392 / 0.7)
    assert x1 - x0 == pytest.approx(480)
    x0, y0, x1, y1 = center_crop_box(640, 480, 336, 336, 336)
    assert (x0, x1) == pytest.approx((0, 480)) and y1 - y0 == pytest.approx(480)
    assert center_crop_box(300, 300, 336, 336, 336) == pytest.approx([0, 0, 300, 300])


def test_stitch_order_puts_tiles_side_by_side():
    # 2 rows x 3 columns of 2x2 tiles, tokens numbered in processor order (tile by tile).
    pos = np.arange(24)
    grid = stitch_order(pos, columns=3, rows=2, side=2).reshape(4, 6)
    assert grid[0].tolist() == [0, 1, 4, 5, 8, 9]  # top rows of tiles 0, 1, 2
    assert grid[1].tolist() == [2, 3, 6, 7, 10, 11]
    assert grid[2].tolist() == [12, 13, 16, 17, 20, 21]  # tiles 3, 4, 5


def test_tile_layout_follows_the_aspect_ratio():
    ip = SimpleNamespace(crop_to_patches=True, size={"height": 448, "width": 448}, min_patches=1, max_patches=12)
    assert tile_layout(448, 448 * 3, ip) == (3, 1)
    assert tile_layout(448 * 2, 448, ip) == (1, 2)
    assert tile_layout(100, 100, SimpleNamespace(crop_to_patches=False)) == (1, 1)


def test_unsupported_model_type_lists_families_and_registration():
    model = SimpleNamespace(config=SimpleNamespace(model_type="blip"))
    with pytest.raises(ValueError) as err:
        adapter_for(model, None)
    msg = str(err.value)
    assert "'blip'" in msg and "qwen2_vl" in msg and "llava" in msg and "register_adapter('blip')" in msg


def test_register_adapter():
    @register_adapter("my_vlm")
    class MyAdapter(Adapter):
        family = "mine"

    try:
        model = SimpleNamespace(config=SimpleNamespace(model_type="my_vlm"))
        assert isinstance(adapter_for(model, SimpleNamespace(tokenizer=None)), MyAdapter)
        assert MyAdapter.model_types == ("my_vlm",)
    finally:
        SUPPORTED.pop("my_vlm")
