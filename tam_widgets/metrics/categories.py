"""Category names, synonyms, and matching nouns to categories (official and default rules).

``COCO_CATEGORIES`` is the paper's 80-class dict: COCO's names and ids in COCO's order, with "sports ball" shortened
to "ball" (37) and "wine glass" to "glass" (46). ``SYNONYMS`` maps common caption words to COCO class names; it is
used by the default mode only.

>>> COCO_CATEGORIES["cat"], COCO_CATEGORIES["hot dog"], len(COCO_CATEGORIES)
(17, 58, 80)
>>> index = category_index(COCO_CATEGORIES)
>>> index.official("dog"), index.official("table")  # any part matches, the last category wins
(58, 67)
>>> [index.default(["a", "hot", "dog", "and", "a", "dog"], [False, False, True, False, False, True])[i] for i in (2, 5)]
[('hot dog', 58), ('dog', 18)]
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .nlp import lemma

__all__ = ["COCO_CATEGORIES", "SYNONYMS", "CategoryIndex", "category_index", "normalize_word"]

COCO_CATEGORIES: dict[str, int] = {
    "person": 1, "bicycle": 2, "car": 3, "motorcycle": 4, "airplane": 5, "bus": 6, "train": 7, "truck": 8,
    "boat": 9, "traffic light": 10, "fire hydrant": 11, "stop sign": 13, "parking meter": 14, "bench": 15,
    "bird": 16, "cat": 17, "dog": 18, "horse": 19, "sheep": 20, "cow": 21, "elephant": 22, "bear": 23,
    "zebra": 24, "giraffe": 25, "backpack": 27, "umbrella": 28, "handbag": 31, "tie": 32, "suitcase": 33,
    "frisbee": 34, "skis": 35, "snowboard": 36, "ball": 37, "kite": 38, "baseball bat": 39, "baseball glove": 40,
    "skateboard": 41, "surfboard": 42, "tennis racket": 43, "bottle": 44, "glass": 46, "cup": 47, "fork": 48,
    "knife": 49, "spoon": 50, "bowl": 51, "banana": 52, "apple": 53, "sandwich": 54, "orange": 55, "broccoli": 56,
    "carrot": 57, "hot dog": 58, "pizza": 59, "donut": 60, "cake": 61, "chair": 62, "couch": 63, "potted plant": 64,
    "bed": 65, "dining table": 67, "toilet": 70, "tv": 72, "laptop": 73, "mouse": 74, "remote": 75, "keyboard": 76,
    "cell phone": 77, "microwave": 78, "oven": 79, "toaster": 80, "sink": 81, "refrigerator": 82, "book": 84,
    "clock": 85, "vase": 86, "scissors": 87, "teddy bear": 88, "hair drier": 89, "toothbrush": 90,
}  # fmt: skip
"""The 80 COCO categories as ``{name: label}`` (the labels of COCO's panoptic/instance ids, 1 to 90 with gaps).

>>> len(COCO_CATEGORIES), COCO_CATEGORIES["cat"], COCO_CATEGORIES["hot dog"]
(80, 17, 58)
"""


def _syn(target: str | tuple[str, ...], *words: str) -> dict[str, tuple[str, ...]]:
    names = (target,) if isinstance(target, str) else target
    return {w: names for w in words}


SYNONYMS: dict[str, tuple[str, ...]] = {
    **_syn(
        "person",
        *"""people man men woman women boy girl child children kid baby toddler guy lady gentleman adult teenager teen
        player skier snowboarder surfer skateboarder rider biker cyclist pedestrian spectator crowd tourist chef worker
        batter catcher umpire athlete passenger policeman officer soldier human""".split(),
    ),
    **_syn("bicycle", "bike"),
    **_syn("motorcycle", "motorbike", "moped"),
    **_syn("airplane", "aeroplane", "plane", "jet", "airliner", "aircraft"),
    **_syn("train", "locomotive"),
    **_syn("truck", "lorry"),
    **_syn("car", "automobile", "taxi", "cab", "sedan", "suv", "jeep"),
    **_syn("boat", "ship", "sailboat", "yacht", "canoe", "kayak", "ferry"),
    **_syn("traffic light", "stoplight"),
    **_syn("fire hydrant", "hydrant"),
    **_syn("bird", "seagull", "gull", "pigeon", "duck", "goose", "parrot", "swan"),
    **_syn("cat", "kitten", "kitty"),
    **_syn("dog", "puppy", "pup"),
    **_syn("horse", "pony", "foal", "stallion", "mare"),
    **_syn("sheep", "lamb"),
    **_syn("cow", "cattle", "calf", "bull", "ox", "oxen"),
    **_syn("backpack", "rucksack", "knapsack"),
    **_syn("umbrella", "parasol"),
    **_syn("handbag", "purse"),
    **_syn("tie", "necktie"),
    **_syn("suitcase", "luggage", "baggage"),
    **_syn("skis", "ski"),
    **_syn(("ball", "sports ball"), "ball"),
    **_syn(("sports ball", "ball"), "football", "soccerball"),
    **_syn("tennis racket", "racket", "racquet"),
    **_syn("baseball glove", "mitt", "glove"),
    **_syn("baseball bat", "bat"),
    **_syn(("glass", "wine glass"), "glass", "wineglass"),
    **_syn("cup", "mug"),
    **_syn("donut", "doughnut"),
    **_syn("hot dog", "hotdog"),
    **_syn("sandwich", "burger", "hamburger"),
    **_syn("couch", "sofa"),
    **_syn("potted plant", "plant", "houseplant"),
    **_syn("dining table", "table"),
    **_syn("tv", "television", "monitor", "tv", "tvs"),
    **_syn("cell phone", "phone", "cellphone", "smartphone"),
    **_syn("refrigerator", "fridge"),
    **_syn("teddy bear", "teddy"),
    **_syn("hair drier", "dryer", "drier", "hairdryer"),
}
"""Caption word (lower case, singular or as written) -> candidate category names; the first one present in the
categories dict is used. Default mode only; pass ``synonyms=`` to ``score_caption`` to replace it.

>>> SYNONYMS["sofa"], SYNONYMS["man"], SYNONYMS["television"]
(('couch',), ('person',), ('tv',))
"""


def normalize_word(word: str) -> str:
    """Lower-case, drop ``-`` and lemmatise as a WordNet noun: the form both rules compare (official recipe).

    >>> normalize_word("Hot-Dogs"), normalize_word("Children")
    ('hotdog', 'child')
    """
    return lemma(word.lower().replace("-", ""))


def _default_form(word: str) -> str:
    w = word.lower()
    for suffix in ("'s", "\u2019s", "s'", "'"):
        if w.endswith(suffix) and len(w) > len(suffix):
            w = w[: -len(suffix)] + ("s" if suffix == "s'" else "")
            break
    return normalize_word(w)


@dataclass(frozen=True)
class CategoryIndex:
    """Categories with their names' lemmas precomputed (build it with :func:`category_index`, which caches).

    >>> index = category_index({"hot dog": 58, "dog": 18})
    >>> index.official("dogs")  # the official rule: any part of a name matches, the last match wins
    18
    """

    categories: tuple[tuple[str, int], ...]
    official_map: dict[str, int] = field(repr=False)  # part lemma -> label of the LAST category with that part
    phrases: dict[tuple[str, ...], tuple[str, int]] = field(repr=False)  # multi-word names, lemmatised parts
    phrase_lengths: tuple[int, ...] = field(repr=False)  # longest first
    singles: dict[str, tuple[str, int]] = field(repr=False)  # one-word names and synonyms
    names: dict[int, str] = field(repr=False)  # label -> name (the last name with that label)

    def official(self, word: str) -> int:
        """Label of a noun under the official rule (-1 when none matches).

        >>> category_index(COCO_CATEGORIES).official("bear")
        88
        """
        return self.official_map.get(normalize_word(word), -1)

    def default(self, words: Sequence[str], is_noun: Sequence[bool]) -> dict[int, tuple[str, int]]:
        """Match the nouns of a word sequence: ``{word index: (category name, label)}``.

        Multi-word names match as whole phrases, longest first (every noun of the phrase gets its label, so
        "tennis racket" gives two entries that the scorer merges); then one-word names; then synonyms.
        """
        forms = [_default_form(w) for w in words]
        out: dict[int, tuple[str, int]] = {}
        n, i = len(words), 0
        while i < n:
            step = 1
            for length in self.phrase_lengths:
                if i + length <= n and any(is_noun[i : i + length]):
                    hit = self.phrases.get(tuple(forms[i : i + length]))
                    if hit is not None:
                        out.update({k: hit for k in range(i, i + length) if is_noun[k]})
                        step = length
                        break
            i += step
        for k in range(n):
            if is_noun[k] and k not in out:
                hit = self.singles.get(forms[k]) or self.singles.get(words[k].lower())
                if hit is not None:
                    out[k] = hit
        return out


def _key(synonyms: Mapping[str, str | Sequence[str]] | None) -> tuple | None:
    if synonyms is None or synonyms is SYNONYMS:
        return None
    return tuple(sorted((k, (v,) if isinstance(v, str) else tuple(v)) for k, v in synonyms.items()))


def category_index(
    categories: Mapping[str, int], synonyms: Mapping[str, str | Sequence[str]] | None = None
) -> CategoryIndex:
    """The (cached) :class:`CategoryIndex` of a ``{name: label}`` dict; ``synonyms=None`` uses :data:`SYNONYMS`.

    >>> category_index({"hot dog": 58, "dog": 18}).official("dog")  # last match wins
    18
    """
    items = tuple((str(k), int(v)) for k, v in categories.items())
    for name, label in items:
        if label <= 0:
            raise ValueError(f"category {name!r} has label {label}: labels must be positive (0 is background)")
    return _build(items, _key(synonyms))


@functools.lru_cache(maxsize=64)
def _build(items: tuple[tuple[str, int], ...], syn_key: tuple | None) -> CategoryIndex:
    synonyms = SYNONYMS if syn_key is None else dict(syn_key)
    official: dict[str, int] = {}
    phrases: dict[tuple[str, ...], tuple[str, int]] = {}
    singles: dict[str, tuple[str, int]] = {}
    by_name = dict(items)
    for name, label in items:
        parts = name.split()
        for part in parts:
            official[normalize_word(part)] = label  # dict order, no break: the last category wins
        forms = tuple(normalize_word(p) for p in parts)
        if len(forms) > 1:
            phrases.setdefault(forms, (name, label))
        elif forms:
            singles.setdefault(forms[0], (name, label))
    for word, targets in synonyms.items():
        target = next((t for t in targets if t in by_name), None)
        if target is None:
            continue
        hit = (target, by_name[target])
        for form in {word.lower(), normalize_word(word)}:
            singles.setdefault(form, hit)
    return CategoryIndex(
        categories=items,
        official_map=official,
        phrases=phrases,
        phrase_lengths=tuple(sorted({len(p) for p in phrases}, reverse=True)),
        singles=singles,
        names={label: name for name, label in items},
    )
