from __future__ import annotations

import pytest

from tam_widgets.datasets import OKVQA, STAR, CocoCaption, GranDf, OpenPSG


@pytest.fixture(
    params=[
        ("coco_root", lambda r: CocoCaption(r)),
        ("coco_formatted_root", lambda r: CocoCaption(r)),
        ("anno_root", lambda r: GranDf(r)),
        ("gcg_root", lambda r: GranDf(r)),
        ("psg_root", lambda r: OpenPSG(r, split="all")),
        ("okvqa_root", lambda r: OKVQA(r)),
        ("star_root", lambda r: STAR(r)),
    ],
    ids=lambda p: p[0],
)
def make(request):
    name, factory = request.param
    root = request.getfixturevalue(name)
    return lambda: factory(root)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_partition(make, n):
    ds = make()
    ids = ds.ids
    assert ids == make().ids  # stable across constructions
    shards = [ds.shard(i, n) for i in range(n)]
    got = [s.ids for s in shards]
    assert sorted(sum(got, []), key=ids.index) == ids  # union = all, no duplicates
    assert sum(len(s) for s in shards) == len(ds)
    for i, g in enumerate(got):
        assert g == ids[i::n]  # every n-th from i, in order
    assert [x.id for x in shards[0]] == got[0]  # iteration follows the same order


def test_shard_argument_and_errors(coco_root):
    full = CocoCaption(coco_root)
    for i in range(2):
        assert CocoCaption(coco_root, shard=(i, 2)).ids == full.shard(i, 2).ids == full.ids[i::2]
    assert full.shard(1, 2).shard(0, 1).ids == full.ids[1::2]
    assert len(full) == 3  # shard() does not modify the original
    for bad in [(2, 2), (-1, 2), (0, 0)]:
        with pytest.raises(ValueError, match="0 <= i < n"):
            full.shard(*bad)
    with pytest.raises(ValueError, match="0 <= i < n"):
        CocoCaption(coco_root, shard=(3, 3))
    with pytest.raises(TypeError):
        full[0:2]
