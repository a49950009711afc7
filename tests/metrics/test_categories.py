"""The COCO dict, the official matching rule (last part match wins) and the default one (phrases, synonyms)."""

from __future__ import annotations

import pytest

from tam_widgets.metrics import COCO_CATEGORIES, SYNONYMS, category_index


def test_coco_categories():
    assert len(COCO_CATEGORIES) == 80 and len(set(COCO_CATEGORIES.values())) == 80
    ids = list(COCO_CATEGORIES.values())
    assert ids == sorted(ids) and ids[0] == 1 and ids[-1] == 90  # COCO's order
    assert COCO_CATEGORIES["ball"] == 37 and COCO_CATEGORIES["glass"] == 46
    assert "sports ball" not in COCO_CATEGORIES and "wine glass" not in COCO_CATEGORIES
    assert {k: COCO_CATEGORIES[k] for k in ("cat", "dog", "skateboard", "hot dog", "teddy bear")} == {
        "cat": 17, "dog": 18, "skateboard": 41, "hot dog": 58, "teddy bear": 88,
    }  # fmt: skip
    missing = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}
    assert set(ids) == set(range(1, 91)) - missing


@pytest.mark.parametrize(
    "word,label",
    [("dog", 58), ("dogs", 58), ("bear", 88), ("table", 67), ("hair", 89), ("baseball", 40), ("Hot-Dog", -1),
     ("cat", 17), ("Cats", 17), ("skis", 35), ("ski", 35), ("man", -1), ("people", -1), ("sofa", -1),
     ("motorbike", -1), ("television", -1)],
)  # fmt: skip
def test_official_matching(word, label):
    assert category_index(COCO_CATEGORIES).official(word) == label


def _default(words, nouns=None, **kw):
    nouns = [True] * len(words) if nouns is None else nouns
    return category_index(COCO_CATEGORIES, **kw).default(words, nouns)


def test_default_matching_phrases_first():
    assert _default(["dog"]) == {0: ("dog", 18)}
    assert _default(["hot", "dog"], [False, True]) == {1: ("hot dog", 58)}
    assert _default(["teddy", "bear"], [False, True]) == {1: ("teddy bear", 88)}
    assert _default(["tennis", "racket"]) == {0: ("tennis racket", 43), 1: ("tennis racket", 43)}
    assert _default(["the", "bear"], [False, True]) == {1: ("bear", 23)}
    assert _default(["hair"]) == {}  # a modifier alone is not the category
    assert _default(["dining", "table", "and", "table"], [True, True, False, True]) == {
        0: ("dining table", 67), 1: ("dining table", 67), 3: ("dining table", 67),  # synonym
    }  # fmt: skip


def test_default_synonyms():
    words = ["man", "men", "people", "children", "sofa", "motorbike", "television", "monitor", "bike", "plane",
             "puppy", "dog's"]  # fmt: skip
    got = {words[k]: name for k, (name, _) in _default(words).items()}
    assert got == {
        "man": "person", "men": "person", "people": "person", "children": "person", "sofa": "couch",
        "motorbike": "motorcycle", "television": "tv", "monitor": "tv", "bike": "bicycle", "plane": "airplane",
        "puppy": "dog", "dog's": "dog",
    }  # fmt: skip
    assert len(SYNONYMS) >= 30
    assert _default(["man"], synonyms={}) == {}
    assert _default(["doggo"], synonyms={"doggo": "dog"}) == {0: ("dog", 18)}


def test_synonyms_follow_the_dict_names():
    full = dict(COCO_CATEGORIES)
    full["sports ball"] = full.pop("ball")
    idx = category_index(full)
    assert idx.default(["ball"], [True]) == {0: ("sports ball", 37)}
    assert idx.default(["sports", "ball"], [True, True]) == {0: ("sports ball", 37), 1: ("sports ball", 37)}
    assert category_index({"animal": 5}).default(["sofa"], [True]) == {}  # target class absent: no synonym


def test_index_is_cached_and_validated():
    assert category_index(COCO_CATEGORIES) is category_index(dict(COCO_CATEGORIES))
    with pytest.raises(ValueError, match="positive"):
        category_index({"background": 0})
