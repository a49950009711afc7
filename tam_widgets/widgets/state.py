"""The synced attributes of the views: name, default and check, in ONE place.

The widget traits (:func:`trait`) and the static page's ``state`` (:func:`page_state`) are both
built from :data:`ATTRS`; the front end has no defaults of its own (it reads the model / the page
document). A check takes the value and the shown :class:`Explanation` (``None`` before the widget
has one) and returns the normalised value or raises ``ValueError`` saying what is allowed.

>>> defaults()
{'selected': -1, 'method': 'tam', 'colormap': 'jet', 'opacity': 0.55, 'show_specials': False, 'frame': 0, 'region': []}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import traitlets

from ..record import Explanation, Token

#: Colour scales the page knows (``js/src/colormaps.ts`` holds their tables).
COLORMAPS = ("jet", "viridis", "inferno")


def check_selected(value: Any, exp: Explanation | None) -> int:
    """A token index with a map, or -1 (none)."""
    value = int(value)
    if exp is None or value == -1:
        return value
    n = len(exp.tokens)
    if not 0 <= value < n:
        raise ValueError(
            f"selected={value} is out of range for {n} tokens (-1 means none; view.select(-2) counts from the end)"
        )
    if value not in set(exp.explained.tolist()):
        raise ValueError(
            f"token {value} ({exp.tokens[value].text!r}) has no map; explained tokens are "
            f"{exp.explained.tolist()[:20]}{' ...' if exp.explained.size > 20 else ''}"
        )
    return value


def check_method(value: Any, exp: Explanation | None) -> str:
    """One of the record's map kinds."""
    if exp is not None and value not in exp.methods:
        raise ValueError(f"method {value!r} is not in this explanation: {exp.methods}")
    return value


def check_colormap(value: Any, exp: Explanation | None) -> str:
    """One of :data:`COLORMAPS`."""
    if value not in COLORMAPS:
        raise ValueError(f"colormap must be one of {COLORMAPS}, got {value!r}")
    return value


def check_opacity(value: Any, exp: Explanation | None) -> float:
    """A number in ``[0, 1]``."""
    value = float(value)
    if not 0 <= value <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {value}")
    return value


def check_show_specials(value: Any, exp: Explanation | None) -> bool:
    """A bool."""
    return bool(value)


def check_frame(value: Any, exp: Explanation | None) -> int:
    """A frame of the longest video (0 without videos)."""
    value = int(value)
    frames = max((len(g.frames) for g in exp.grids), default=1) if exp is not None else None
    if value < 0 or (frames is not None and value >= frames):
        last = (frames or 1) - 1
        raise ValueError(f"frame must be in 0..{last} (the frames of the longest video), got {value}")
    return value


def check_region(exp: Explanation, value: Any) -> list:
    """``value`` as a region ``[grid, frame, x0, y0, x1, y1]`` of ``exp`` (ints, then floats), or ValueError.

    ``grid``/``frame`` are whole numbers naming a grid and one of its frames; the box is 4 finite numbers in
    the stored picture's pixels with some area (either corner order) that overlaps the picture.

    >>> from tam_widgets.testing.records import small_record
    >>> check_region(small_record(), [0, 0, 30, 40, 10, 20.5])
    [0, 0, 30.0, 40.0, 10.0, 20.5]
    """
    fmt = "region is [] or [grid, frame, x0, y0, x1, y1]: grid and frame whole numbers, the box in stored pixels"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 6:
        raise ValueError(f"{fmt}; got {value!r}")
    nums = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{fmt}; got {value!r} ({type(v).__name__} is not a number)")
        if not np.isfinite(float(v)):
            raise ValueError(f"{fmt}; got {value!r} (NaN and infinities are not positions)")
        nums.append(float(v))
    if not (nums[0].is_integer() and nums[1].is_integer()):
        raise ValueError(f"{fmt}; got {value!r} (grid and frame are indices, not fractions)")
    grid, frame = int(nums[0]), int(nums[1])
    if not 0 <= grid < len(exp.grids) or not 0 <= frame < len(exp.grids[grid].frames):
        frames = [f"{g.label!r}: {len(g.frames)}" for g in exp.grids]
        raise ValueError(f"region {value!r} names a grid/frame this explanation does not have (frames per grid: "
                         f"{', '.join(frames)})")
    x0, x1 = sorted(nums[2::2])
    y0, y1 = sorted(nums[3::2])
    h, w = exp.images[exp.grids[grid].frames[frame]].shape[:2]
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        raise ValueError(f"region {value!r} is an empty box; {fmt}")
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ValueError(f"region {value!r} lies outside its picture of {w}x{h} pixels; {fmt}")
    return [grid, frame, *nums[2:]]


def _check_region(value: Any, exp: Explanation | None) -> list:
    if exp is None or (isinstance(value, (list, tuple)) and not value):
        return list(value)
    return check_region(exp, value)


@dataclass(frozen=True)
class Attr:
    """One synced attribute: its trait type, default, check and meaning."""

    name: str
    trait: type[traitlets.TraitType]
    default: Any
    check: Callable[[Any, Any], Any]  # (value, what the view shows or None) -> normalised value
    doc: str


ATTRS: dict[str, Attr] = {
    a.name: a
    for a in (
        Attr("selected", traitlets.Int, -1, check_selected,
             "index into the record's tokens of the pinned token (-1: the page picks the starting token)"),
        Attr("method", traitlets.Unicode, "tam", check_method, "one of the record's map kinds"),
        Attr("colormap", traitlets.Unicode, "jet", check_colormap, "jet, viridis or inferno"),
        Attr("opacity", traitlets.Float, 0.55, check_opacity, "heat layer opacity in [0, 1]"),
        Attr("show_specials", traitlets.Bool, False, check_show_specials, "show template/special tokens"),
        Attr("frame", traitlets.Int, 0, check_frame, "shown frame of video grids"),
        Attr("region", traitlets.List, [], _check_region, "[] or [grid, frame, x0, y0, x1, y1] in stored pixels"),
    )
}


def check_flag(value: Any, exp: Explanation | None) -> bool:
    """A bool (``True``/``False``, not a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"expected True or False, got {value!r}")
    return bool(value)


def check_text(value: Any, exp: Explanation | None) -> str:
    """A string."""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


#: The chat timeline's own synced attributes (beside ``selected``, ``method``, ``colormap``, ``opacity``).
TIMELINE_ATTRS: dict[str, Attr] = {
    a.name: a
    for a in (
        Attr("live", traitlets.Bool, False, check_flag,
             "the page shows the question box (the timeline was built from a chat)"),
        Attr("busy", traitlets.Bool, False, check_flag, "a turn is being generated"),
        Attr("error", traitlets.Unicode, "", check_text, "why the last turn failed ('' when it did not)"),
    )
}
#: The attributes a chat timeline syncs, shared ones first.
TIMELINE_VIEW = ("selected", "method", "colormap", "opacity", "show_specials", *TIMELINE_ATTRS)


def _spec(name: str) -> Attr:
    return ATTRS[name] if name in ATTRS else TIMELINE_ATTRS[name]


# -- the comparison view (CompareView): its checks take the compared records (a list, None before they are known)


def check_word(value: Any, shown: Any) -> int:
    """An index into the aligned words (``shown.alignment``), or -1 (none)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"word is an index into the aligned words (an int, -1 for none), got {value!r}")
    value = int(value)
    n = len(shown.alignment) if shown is not None else None
    if value < -1 or (n is not None and value >= n):
        raise ValueError(f"word={value} is out of range for {n} aligned words (-1 means none; view.find('dog') "
                         "selects a word by its text)")
    return value


#: Longest word the comparison's word box takes.
MAX_QUERY = 200


def check_query(value: Any, shown: Any) -> str:
    """The text typed in the word box (a string of at most :data:`MAX_QUERY` characters)."""
    if not isinstance(value, str):
        raise ValueError(f"query is the typed word, a string; got {type(value).__name__}")
    if len(value) > MAX_QUERY:
        raise ValueError(f"query is one word; got {len(value)} characters (at most {MAX_QUERY})")
    return value


def check_compared_method(value: Any, shown: Any) -> str:
    """A map kind every compared record has."""
    if shown is not None and value not in shown.methods:
        raise ValueError(f"method {value!r} is not in every compared explanation; they share {shown.methods}")
    return value


#: Colour scales of a comparison: each model's map in its own range, or all panels on one shared range.
SCALES = ("own", "shared")


def check_scale(value: Any, shown: Any) -> str:
    """One of :data:`SCALES`."""
    if value not in SCALES:
        raise ValueError(f"scale must be one of {SCALES} (own: each map in its own range; shared: one range for "
                         f"all panels), got {value!r}")
    return value


def check_picture_region(value: Any, shown: Any) -> list:
    """``[]`` or ``[picture, x0, y0, x1, y1]``: a box on one of the compared pictures (they are the same for every
    record), in its stored pixels; the box counts on every grid laid over that picture, in every model."""
    if isinstance(value, (list, tuple)) and not value:
        return []
    fmt = "region is [] or [picture, x0, y0, x1, y1]: a picture index and a box in its stored pixels"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 5:
        raise ValueError(f"{fmt}; got {value!r}")
    nums = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{fmt}; got {value!r} ({type(v).__name__} is not a number)")
        if not np.isfinite(float(v)):
            raise ValueError(f"{fmt}; got {value!r} (NaN and infinities are not positions)")
        nums.append(float(v))
    if not nums[0].is_integer():
        raise ValueError(f"{fmt}; got {value!r} (the picture is an index, not a fraction)")
    pic = int(nums[0])
    x0, x1 = sorted(nums[1::2])
    y0, y1 = sorted(nums[2::2])
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        raise ValueError(f"region {value!r} is an empty box; {fmt}")
    if shown is not None:
        images = shown.explanations[0].images
        if not 0 <= pic < len(images):
            raise ValueError(f"region {value!r} names picture {pic}; the records have {len(images)} picture(s)")
        h, w = images[pic].shape[:2]
        if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            raise ValueError(f"region {value!r} lies outside its picture of {w}x{h} pixels; {fmt}")
    return [pic, *nums[1:]]


#: The synced attributes of the comparison view (``CompareView``), in the same spec as :data:`ATTRS`.
def check_shown_picture(value: Any, shown: Any) -> int:
    """The video frame every column shows, as an index into the compared pictures (the same for every record)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"frame is a picture index (an int), got {value!r}")
    value = int(value)
    n = len(shown.explanations[0].images) if shown is not None else None
    if value < 0 or (n is not None and value >= n):
        raise ValueError(f"frame={value} is not a picture of these records (0..{(n or 1) - 1}); it is an index into "
                         "the compared pictures, e.g. a video's sampled frames")
    return value


COMPARE_ATTRS: dict[str, Attr] = {
    a.name: a
    for a in (
        Attr("word", traitlets.Int, -1, check_word,
             "index of the pinned aligned word (-1: none; the view starts on the first word every model said)"),
        Attr("query", traitlets.Unicode, "", check_query, "the word typed in the word box"),
        Attr("method", traitlets.Unicode, "tam", check_compared_method, "map kind shown in every panel"),
        Attr("colormap", traitlets.Unicode, "jet", check_colormap, "jet, viridis or inferno"),
        Attr("opacity", traitlets.Float, 0.55, check_opacity, "heat layer opacity in [0, 1]"),
        Attr("scale", traitlets.Unicode, "own", check_scale, "own: each map in its own range; shared: one range"),
        Attr("region", traitlets.List, [], check_picture_region,
             "[] or [picture, x0, y0, x1, y1]: one box on a picture, applied to every model"),
        Attr("frame", traitlets.Int, 0, check_shown_picture,
             "the video frame shown in every column, as a picture index (each column shows its video step "
             "holding that picture)"),
    )
}


def defaults(attrs: dict[str, Attr] | None = None) -> dict[str, Any]:
    """Every synced attribute's default (fresh lists); ``attrs`` defaults to :data:`ATTRS`."""
    attrs = ATTRS if attrs is None else attrs
    return {k: _fresh(a.default) for k, a in attrs.items()}


def _fresh(default: Any) -> Any:
    """A default as a new object when it is a container (a list or dict trait must not share it)."""
    return type(default)(default) if isinstance(default, (list, dict)) else default


def trait(name: str, attrs: dict[str, Attr] | None = None) -> traitlets.TraitType:
    """The synced traitlet of attribute ``name`` with its default (checks: :func:`validator`)."""
    a = _spec(name) if attrs is None else attrs[name]
    return a.trait(_fresh(a.default)).tag(sync=True)


def validator(name: str, record: Callable[[Any], Any], attrs: dict[str, Attr] | None = None) -> Any:
    """A ``@traitlets.validate(name)`` method running the attribute's check on ``record(self)``."""

    @traitlets.validate(name)
    def _validate(self: Any, proposal: dict) -> Any:
        try:
            return (_spec(name) if attrs is None else attrs[name]).check(proposal["value"], record(self))
        except ValueError as e:
            raise traitlets.TraitError(str(e)) from None

    return _validate


def starting_point(exp: Explanation, selected: int | Token | None, method: str | None) -> tuple[int, str]:
    """The token and method a view starts on (notebook widget and HTML page alike).

    ``selected`` defaults to the first explained answer token (else the first explained one); a token
    without a map raises ``ValueError`` listing the explained tokens. ``method`` defaults to ``"tam"``
    when the record has it, else its first method (an unknown name is left for the caller to refuse).
    """
    if selected is None:
        answers = [int(i) for i in exp.explained.tolist() if exp.tokens[i].role == "answer"]
        first = answers[0] if answers else int(exp.explained[0])
    else:
        first = exp.token_index(selected)
    exp._row(first)
    if method is None:
        method = ATTRS["method"].default if ATTRS["method"].default in exp.methods else exp.methods[0]
    return first, method


def page_state(exp: Explanation, **state: Any) -> dict[str, Any]:
    """The checked ``state`` of a page showing ``exp``: defaults, then ``state`` (unknown names refused).

    ``selected`` and ``method`` start where the widget would (:func:`starting_point`).
    """
    unknown = sorted(set(state) - set(ATTRS))
    if unknown:
        raise TypeError(f"unknown view attribute(s) {unknown}; synced attributes are {list(ATTRS)}")
    out = defaults()
    first, method = starting_point(exp, state.pop("selected", None), state.pop("method", None))
    out.update(selected=first, method=method)
    out.update({k: v for k, v in state.items() if v is not None})
    return {k: ATTRS[k].check(v, exp) for k, v in out.items()}


def timeline_state(exp: Explanation | None, **state: Any) -> dict[str, Any]:
    """The checked state of a chat timeline (widget and page alike): :data:`TIMELINE_VIEW` with their defaults,
    then ``state`` (unknown names refused); ``selected``/``method`` start as :func:`starting_point` says.

    >>> from tam_widgets.testing.records import small_record
    >>> timeline_state(small_record(), colormap="viridis")
    {'selected': 12, 'method': 'tam', 'colormap': 'viridis', 'opacity': 0.55, 'show_specials': False, \
'live': False, 'busy': False, 'error': ''}
    """
    unknown = sorted(set(state) - set(TIMELINE_VIEW))
    if unknown:
        raise TypeError(f"unknown timeline attribute(s) {unknown}; synced attributes are {list(TIMELINE_VIEW)}")
    out = {k: _spec(k).default for k in TIMELINE_VIEW}
    if exp is not None:
        first, method = starting_point(exp, state.pop("selected", None), state.pop("method", None))
        out.update(selected=first, method=method)
    out.update({k: v for k, v in state.items() if v is not None})
    return {k: _spec(k).check(v, exp) for k, v in out.items()}


def compare_page_state(shown: Any, **state: Any) -> dict[str, Any]:
    """The checked ``state`` of a comparison (a :class:`tam_widgets.compare.Comparison`): defaults, then ``state``.

    ``word`` starts on ``shown.start_word()``, ``method`` on ``"tam"`` when every record has it (else their
    first shared method); a typed ``query`` that names an aligned word selects it.
    """
    unknown = sorted(set(state) - set(COMPARE_ATTRS))
    if unknown:
        raise TypeError(f"unknown comparison attribute(s) {unknown}; synced attributes are {list(COMPARE_ATTRS)}")
    out = defaults(COMPARE_ATTRS)
    default_method = COMPARE_ATTRS["method"].default
    out["method"] = default_method if default_method in shown.methods else shown.methods[0]
    out["word"] = shown.start_word()
    videos = [g.frames[0] for g in shown.explanations[0].grids if len(g.frames) > 1]
    out["frame"] = videos[0] if videos else 0  # the first video's first frame
    out.update({k: v for k, v in state.items() if v is not None})
    out = {k: COMPARE_ATTRS[k].check(v, shown) for k, v in out.items()}
    if out["query"] and state.get("word") is None:
        found = shown.alignment.find(out["query"])
        out["word"] = found if found >= 0 else out["word"]
    return out
# -- the failure-case board (FailureCaseBoard, js/src/views/case_board.ts) ------------------------------
# Its checks take the value and the board's study (``None`` before the board has one).

#: correctness filter values: every case, right answers, wrong answers, no answer known yet
CORRECT_FILTERS = ("all", "correct", "failed", "unknown")
#: flag filter values
FLAG_FILTERS = ("all", "flagged", "unflagged")
#: the reason filter's value for cases without a reason ("" = any reason)
NO_REASON = "(no reason)"
#: sort orders of the case list: study order, score (worst first), question type, reason, flagged first
SORTS = ("order", "score", "question_type", "reason", "flag")
#: the filter keys and their defaults
FILTER_DEFAULTS = {"correct": "all", "reason": "", "flag": "all", "question_type": "", "text": ""}


def check_case(value: Any, study: Any) -> str:
    """The id of the opened case ("" = none): one of the study's case ids."""
    if not isinstance(value, str):
        raise ValueError(f"case must be a case id (str) or '' for none, got {type(value).__name__}")
    if value and study is not None and value not in study._by_id:
        ids = ", ".join(repr(c.id) for c in study.case_list[:5])
        raise ValueError(f"no case {value!r} in this study (ids: {ids}, ...)")
    return value


def check_filters(value: Any, study: Any) -> dict:
    """The case list's filters: a dict with some of :data:`FILTER_DEFAULTS`' keys; the others keep their default.

    >>> check_filters({"correct": "failed", "text": "cat"}, None)["correct"]
    'failed'
    """
    if not isinstance(value, dict):
        raise ValueError(f"filters must be a dict with keys {list(FILTER_DEFAULTS)}, got {type(value).__name__}")
    unknown = sorted(set(value) - set(FILTER_DEFAULTS), key=str)
    if unknown:
        raise ValueError(f"unknown filter(s) {unknown}; filters are {list(FILTER_DEFAULTS)}")
    out = {**FILTER_DEFAULTS, **value}
    for k, v in out.items():
        if not isinstance(v, str):
            raise ValueError(f"filter {k!r} must be a str, got {type(v).__name__}")
    if out["correct"] not in CORRECT_FILTERS:
        raise ValueError(f"filter 'correct' must be one of {CORRECT_FILTERS}, got {out['correct']!r}")
    if out["flag"] not in FLAG_FILTERS:
        raise ValueError(f"filter 'flag' must be one of {FLAG_FILTERS}, got {out['flag']!r}")
    if len(out["text"]) > 500:
        raise ValueError(f"filter 'text' is {len(out['text'])} characters long; search for at most 500")
    return out


def check_sort(value: Any, study: Any) -> str:
    """One of :data:`SORTS`."""
    if value not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, got {value!r}")
    return value


def check_reasons(value: Any, study: Any) -> list:
    """The reason taxonomy: distinct, non-empty strings (at most 200 characters each, at most 99 of them)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError(f"reasons must be a list of str, got {type(value).__name__}")
    out: list[str] = []
    for r in value:
        if not isinstance(r, str) or not r.strip() or len(r) > 200:
            raise ValueError(f"each reason is a non-empty str of at most 200 characters, got {r!r}")
        if r == NO_REASON:
            raise ValueError(f"{NO_REASON!r} is the filter for cases without a reason, not a reason")
        if r not in out:
            out.append(r)
    if len(out) > 99:
        raise ValueError(f"at most 99 reasons, got {len(out)}")
    return out


BOARD_ATTRS: dict[str, Attr] = {
    a.name: a
    for a in (
        Attr("case", traitlets.Unicode, "", check_case, "id of the opened case ('' = none)"),
        Attr("filters", traitlets.Dict, dict(FILTER_DEFAULTS), check_filters,
             "the list's filters: correct (all/correct/failed/unknown), reason ('' any, '(no reason)'), "
             "flag (all/flagged/unflagged), question_type ('' any), text (searched in id, question, answers)"),
        Attr("sort", traitlets.Unicode, "order", check_sort, "order, score (worst first), question_type, reason, flag"),
        Attr("reasons", traitlets.List, [], check_reasons, "the reason taxonomy (editable in the page)"),
        Attr("read_only", traitlets.Bool, False, lambda v, s: bool(v), "annotation disabled (the offline page)"),
    )
}
