"""What the browser receives for one :class:`~tam_widgets.record.Explanation`.

The front end (``js/``, contract in ``js/README.md``) gets one small JSON ``meta`` object and a few
binary buffers, never JSON lists of numbers:

* ``maps``: per method, uint8 ``[n_explained, n_visual]`` on each row's display scale;
* ``scales``: float32 ``[n_methods, n_explained, 2]``, the ``(lo, span)`` that turns a uint8 value
  back into map units (``lo + span * u8 / 255``);
* ``relevance``: the record's float16 text relevance, as stored;
* ``images``: the stored pictures encoded as PNG (small ones) or JPEG.

Text reaches the page ready to show: token labels (:attr:`~tam_widgets.record.Token.label`, byte
fragments as ``<0xE2>``), probabilities as :func:`~tam_widgets.record.format_prob` text, method
names and legend texts (:func:`~tam_widgets.record.method_label`, :func:`~tam_widgets.record.legend_text`)
and the record's provenance warning (:func:`~tam_widgets.record.provenance`) as ``meta["warning"]``.

The display scale is the record's own (:meth:`Explanation.overlay`): a row whose values all lie in
``[0, 1]`` is shown as stored (TAM maps, so weak tokens stay faint), any other row min-max scaled.

>>> from tam_widgets.testing.records import synthetic_record
>>> p = build_payload(synthetic_record(64, grid=(24, 32), image_size=(336, 448)))
>>> p.meta["tokens"][3], p.maps["tam"].dtype, p.maps["tam"].shape, p.meta["on_demand"]
(['Describe', 'prompt', 0], dtype('uint8'), (64, 768), False)
>>> round(p.nbytes() / p.raw_nbytes(), 2)  # the JSON meta adds a few percent
1.04
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

import numpy as np

from ..record import (
    DARK_TEXT_LUMINANCE,
    Explanation,
    Token,
    cover_words,
    display_scale,
    format_prob,
    legend_text,
    method_label,
    provenance,
)

#: Above this many bytes of maps, rows are sent when the page asks for them (``on_demand``).
MAX_INLINE_BYTES = 4_000_000
#: Target size of one on-demand message.
CHUNK_BYTES = 1_000_000
#: Pictures with more pixels than this are sent as JPEG in ``image_format="auto"``.
PNG_MAX_PIXELS = 256 * 256


@dataclass
class Payload:
    """The JSON ``meta`` and the binary buffers of a view (see the module docstring).

    >>> from tam_widgets.testing.records import small_record
    >>> payload = build_payload(small_record())
    >>> list(payload.maps), len(payload.images), payload.meta["on_demand"]
    (['tam', 'cam', 'eci_only', 'filter_only'], 1, False)
    """

    meta: dict
    maps: dict[str, np.ndarray]
    scales: np.ndarray
    relevance: np.ndarray
    images: list[bytes]

    def buffers(self, inline: bool | None = None) -> dict:
        """A record's entry of ``_records`` (without its ``id``): ``meta`` plus ``bytes``/``memoryview`` buffers.

        ``inline`` defaults to ``not meta["on_demand"]``; when False the maps are ``None``.
        """
        inline = (not self.meta["on_demand"]) if inline is None else inline
        return {
            "meta": self.meta,
            "maps": {k: (memoryview(v.reshape(-1)) if inline else None) for k, v in self.maps.items()},
            "scales": memoryview(self.scales.reshape(-1)),
            "relevance": memoryview(self.relevance.reshape(-1).view(np.uint8)),
            "images": [memoryview(b) for b in self.images],
        }

    def raw_nbytes(self) -> int:
        """Bytes of the arrays and encoded pictures themselves (maps, scales, relevance, images)."""
        return (
            sum(m.nbytes for m in self.maps.values())
            + self.scales.nbytes
            + self.relevance.nbytes
            + sum(len(b) for b in self.images)
        )

    def nbytes(self, inline: bool = True) -> int:
        """Bytes on the wire: the JSON ``meta`` plus every buffer (maps included when ``inline``)."""
        state = self.buffers(inline)
        n = len(json.dumps(self.meta, ensure_ascii=False).encode())
        n += self.scales.nbytes + self.relevance.nbytes + sum(len(b) for b in self.images)
        if inline:
            n += sum(m.nbytes for m in self.maps.values())
        return n + len(json.dumps({k: None for k in state}))

    def rows(self, method: str, start: int, stop: int) -> bytes:
        """uint8 maps of rows ``start:stop`` of ``method`` (an on-demand answer); ValueError if invalid."""
        if method not in self.maps:
            raise ValueError(f"unknown method {method!r}; the view has {list(self.maps)}")
        n = self.maps[method].shape[0]
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= n):
            raise ValueError(f"rows {start!r}:{stop!r} are out of range for {n} explained tokens")
        return self.maps[method][start:stop].tobytes()


#: A label made of byte values only, as :attr:`Token.label` writes a byte fragment (``<0xE2><0x80>``).
_BYTE_LABEL = re.compile(r"(?:<0x[0-9A-F]{2}>)+")


def token_entry(t: Token) -> list:
    """A token as the page gets it: ``[label, role, turn]``, plus a trailing ``1`` when the label is bytes.

    >>> token_entry(Token("", 7, "answer", 0, 3, raw_bytes=b"\\xe2\\x80"))
    ['<0xE2><0x80>', 'answer', 0, 1]
    """
    entry = [t.label, t.role, int(t.turn)]
    return entry + [1] if t.raw_bytes is not None else entry


def candidate_entries(
    texts: list[str], ids: np.ndarray, probs: np.ndarray, token_id: int, byte_labels: dict[int, str] | None = None
) -> list[list]:
    """One row's candidates as the page shows them: ``[label, probability text, chosen, is_bytes]``.

    The probability is :func:`~tam_widgets.record.format_prob`'s text; ``chosen`` is 1 for the
    candidate that is the explained token itself (same id). Padding candidates (id < 0) are left
    out. A candidate whose text is a byte label (``<0xE2>``) is marked as bytes; one that decoded to
    U+FFFD on its own (a byte fragment) gets the label of a record token with its id
    (``byte_labels``: id -> :attr:`Token.label`), else ``<id N>``, so that two never look alike.

    >>> candidate_entries([" cat", "\\ufffd", "\\ufffd", ""], np.array([5, 9, 7, -1]),
    ...                   np.array([0.4123, 0.001, 0.0005, 0]), 5, {7: "<0xC3>"})
    [[' cat', '41.2%', 1, 0], ['<id 9>', '0.1%', 0, 1], ['<0xC3>', '0.05%', 0, 1]]
    """
    out = []
    for text, i, p in zip(texts, ids.tolist(), probs.tolist()):
        if i < 0:
            continue
        text = str(text)
        is_bytes = bool(_BYTE_LABEL.fullmatch(text))
        if "\ufffd" in text:
            text, is_bytes = (byte_labels or {}).get(i, f"<id {i}>"), True
        out.append([text, format_prob(p), int(i == int(token_id)), int(is_bytes)])
    return out


def quantize(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of float maps as uint8 on their display scale, with each row's ``lo`` and ``span``.

    >>> u8, lo, span = quantize(np.array([[0, 0.5, 1], [-2, 0, 2]], np.float16))
    >>> u8.tolist(), lo.tolist(), span.tolist()
    ([[0, 128, 255], [0, 128, 255]], [0.0, -2.0], [1.0, 4.0])
    """
    shown, lo, span = display_scale(maps)
    u8 = np.rint(np.clip(shown, 0, 1) * 255).astype(np.uint8)
    return u8, lo, span


def encode_image(image: np.ndarray, image_format: str = "auto", quality: int = 90) -> tuple[bytes, str]:
    """An RGB uint8 picture as ``(bytes, mime)``: PNG, JPEG, or ``"auto"`` (PNG when small)."""
    from PIL import Image

    if image_format not in ("auto", "png", "jpeg"):
        raise ValueError(f"image_format must be 'auto', 'png' or 'jpeg', got {image_format!r}")
    h, w = image.shape[:2]
    fmt = image_format if image_format != "auto" else ("png" if h * w <= PNG_MAX_PIXELS else "jpeg")
    buf = io.BytesIO()
    if fmt == "png":
        Image.fromarray(image).save(buf, format="PNG", optimize=False, compress_level=6)
    else:
        Image.fromarray(image).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue(), f"image/{fmt}"


def _quantize_cached(cache: dict, name: str, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`quantize` of ``m``, reusing the rows of the last call for ``name`` that did not change.

    The display scale is per row, so rows equal to the ones quantized before keep their uint8 values
    (a growing conversation only adds rows, or changes every row when a picture adds columns).
    """
    src, u8, lo, span = cache.get(("maps", name), (None, None, None, None))
    keep = 0
    if src is not None and src.shape[1] == m.shape[1] and src.dtype == m.dtype:
        keep = min(len(src), len(m))
        if not np.array_equal(src[:keep], m[:keep]):
            keep = 0
    if keep:
        nu8, nlo, nspan = quantize(m[keep:])
        u8, lo, span = np.concatenate([u8[:keep], nu8]), np.concatenate([lo[:keep], nlo]), np.concatenate(
            [span[:keep], nspan])
    else:
        u8, lo, span = quantize(m)
    cache["maps", name] = (m.copy(), u8, lo, span)
    return u8, lo, span


def _encode_cached(cache: dict, k: int, image: np.ndarray, image_format: str) -> tuple[bytes, str]:
    """:func:`encode_image`, reusing the bytes of picture ``k`` when it is the same picture as last time."""
    old = cache.get(("image", k, image_format))
    if old is not None and old[0].shape == image.shape and np.array_equal(old[0], image):
        return old[1]
    encoded = encode_image(image, image_format)
    cache["image", k, image_format] = (image.copy(), encoded)
    return encoded


def check_showable(exp: object, who: str) -> None:
    """Refuse what no view can show: not an :class:`Explanation`, or one without explained tokens."""
    if not isinstance(exp, Explanation):
        raise TypeError(f"{who} shows an Explanation, got {type(exp).__name__}")
    if not exp.explained.size:
        raise ValueError("this explanation has no explained tokens, so there is no map to show")


def build_payload(
    exp: Explanation,
    *,
    image_format: str = "auto",
    max_inline_bytes: int = MAX_INLINE_BYTES,
    cache: dict | None = None,
) -> Payload:
    """Everything a view of ``exp`` sends to the page (see the module docstring).

    >>> from tam_widgets.testing.records import small_record
    >>> build_payload(small_record(), max_inline_bytes=100).meta["on_demand"]  # rows are fetched as needed
    True

    ``meta["on_demand"]`` is set when the maps of all methods together pass ``max_inline_bytes``:
    the page then asks for rows in chunks of ``meta["chunk"]`` (about one megabyte each). ``cache``: a
    dict kept between calls for a record that grows (a live chat): map rows and pictures that did not
    change since the last call are not quantized or encoded again.
    """
    if not isinstance(exp, Explanation):
        raise TypeError(f"expected an Explanation, got {type(exp).__name__}")
    if not exp.methods:
        raise ValueError("this explanation holds no maps, so there is nothing to show")
    n_exp = int(exp.explained.size)
    n_visual = sum(g.size for g in exp.grids)
    maps, scales = {}, np.zeros((len(exp.methods), n_exp, 2), np.float32)
    for j, (name, m) in enumerate(exp.maps.items()):
        u8, lo, span = quantize(m) if cache is None else _quantize_cached(cache, name, m)
        maps[name], scales[j, :, 0], scales[j, :, 1] = u8, lo, span
    encoded = [encode_image(im, image_format) if cache is None else _encode_cached(cache, k, im, image_format)
               for k, im in enumerate(exp.images)]
    total = sum(m.nbytes for m in maps.values())
    byte_labels = {t.id: t.label for t in exp.tokens if t.raw_bytes is not None}
    meta = {
        "format": "tam-widgets-view",
        "version": 1,
        "title": str(exp.metadata.get("model_id") or "explanation"),
        "tokens": [token_entry(t) for t in exp.tokens],
        "explained": [int(i) for i in exp.explained],
        "words": [[int(s), int(e)] for s, e in cover_words(exp.words, len(exp.tokens))],
        "candidates": [
            candidate_entries(texts, ids, probs, exp.tokens[int(i)].id, byte_labels)
            for texts, ids, probs, i in zip(exp.candidate_texts, exp.candidate_ids, exp.candidate_probs, exp.explained)
        ],
        "methods": [{"name": k, "label": method_label(k), "legend": legend_text(k)} for k in exp.methods],
        "warning": provenance(exp.metadata),
        "grids": [
            {
                "kind": g.kind,
                "label": g.label,
                "offset": int(g.offset),
                "shape": [1, *g.grid] if len(g.grid) == 2 else list(g.grid),
                "frames": list(g.frames),
                "boxes": [[round(float(v), 3) for v in box] for box in g.boxes],
                "turn": int(g.turn),
            }
            for g in exp.grids
        ],
        "images": [{"width": int(im.shape[1]), "height": int(im.shape[0]), "mime": mime} for im, (_, mime) in
                   zip(exp.images, encoded)],
        "n_visual": int(n_visual),
        "on_demand": bool(total > max_inline_bytes),
        "chunk": int(max(1, CHUNK_BYTES // max(n_visual, 1))),
        "dark_text_below": DARK_TEXT_LUMINANCE,
    }
    relevance = np.ascontiguousarray(exp.text_relevance, dtype=np.float16)
    return Payload(meta, maps, scales, relevance, [b for b, _ in encoded])



@dataclass
class Append:
    """What a growing record (a chat's turn being written) adds to the page's copy of it.

    ``meta``: ``tokens {start, items}`` (new :func:`token_entry` s from token ``start`` on), ``words
    {start, items}`` (the word ranges from word ``start`` on, replacing the page's), ``rows {start,
    explained, candidates}`` (the new explained tokens from row ``start`` on) and ``n_tokens``. Buffers,
    in :meth:`buffers` order: each method's uint8 rows ``[k, n_visual]`` (as :func:`build_payload`
    quantizes them), float32 ``scales [n_methods, k, 2]``, float16 ``relevance [k, n_tokens]``.
    """

    meta: dict
    maps: dict[str, np.ndarray]
    scales: np.ndarray
    relevance: np.ndarray

    def buffers(self) -> list[memoryview]:
        """The binary parts in the order the page reads them."""
        return [*(memoryview(m.reshape(-1)) for m in self.maps.values()), memoryview(self.scales.reshape(-1)),
                memoryview(self.relevance.reshape(-1).view(np.uint8))]

    def raw_nbytes(self) -> int:
        """Bytes of the buffers."""
        return sum(m.nbytes for m in self.maps.values()) + self.scales.nbytes + self.relevance.nbytes


def _extends(old: Explanation, new: Explanation) -> bool:
    """``new`` is ``old`` with tokens and explained rows added to its last turn, and nothing else changed."""
    n0, r0 = len(old.tokens), int(old.explained.size)
    if (list(new.maps) != list(old.maps) or len(new.tokens) < n0 or new.explained.size < r0
            or len(new.grids) != len(old.grids) or len(new.images) != len(old.images)
            or sum(g.size for g in new.grids) != sum(g.size for g in old.grids)
            or provenance(new.metadata) != provenance(old.metadata)
            or new.metadata.get("model_id") != old.metadata.get("model_id")):
        return False
    if not np.array_equal(new.explained[:r0], old.explained) or (r0 < new.explained.size and new.explained[r0] < n0):
        return False
    last = old.tokens[-1].turn if n0 else 0
    first = next((i for i in range(n0 - 1, -1, -1) if old.tokens[i].turn != last), -1) + 1
    return all(t.turn == last for t in new.tokens[n0:]) and all(
        token_entry(a) == token_entry(b) for a, b in zip(old.tokens[first:n0], new.tokens[first:n0]))


def append_payload(old: Explanation, new: Explanation) -> Append | None:
    """What the page showing ``old`` needs to show ``new``, or None when ``new`` is not ``old`` grown within its
    last turn (then the page gets :func:`build_payload` of ``new``: a new turn, a picture, a failed turn).

    The rows, scales, texts and words it carries are those :func:`build_payload` of ``new`` holds, so
    the page's copy after any number of appends equals the full payload.

    >>> from tam_widgets.testing.fake_chat import Turn, conversation_record
    >>> old = conversation_record([Turn("Describe.", 2, images=1, closed=False)])
    >>> new = conversation_record([Turn("Describe.", 3, images=1, closed=False)])
    >>> a = append_payload(old, new)
    >>> a.meta["tokens"], a.meta["rows"]["start"], a.maps["tam"].shape, a.relevance.shape
    ({'start': 11, 'items': [[' w2', 'answer', 0]]}, 2, (1, 48), (1, 12))
    >>> append_payload(new, old) is None
    True
    """
    if not _extends(old, new):
        return None
    n0, r0, n = len(old.tokens), int(old.explained.size), len(new.tokens)
    rows = new.explained[r0:]
    maps, scales = {}, np.zeros((len(new.maps), len(rows), 2), np.float32)
    for j, (name, m) in enumerate(new.maps.items()):
        maps[name], scales[j, :, 0], scales[j, :, 1] = quantize(m[r0:])
    before, after = cover_words(old.words, n0), cover_words(new.words, n)
    w0 = next((k for k, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    byte_labels = {t.id: t.label for t in new.tokens if t.raw_bytes is not None}
    meta = {
        "tokens": {"start": n0, "items": [token_entry(t) for t in new.tokens[n0:]]},
        "words": {"start": w0, "items": [[int(s), int(e)] for s, e in after[w0:]]},
        "rows": {
            "start": r0,
            "explained": [int(i) for i in rows],
            "candidates": [
                candidate_entries(texts, ids, probs, new.tokens[int(i)].id, byte_labels)
                for texts, ids, probs, i in zip(new.candidate_texts[r0:], new.candidate_ids[r0:],
                                                new.candidate_probs[r0:], rows)
            ],
        },
        "n_tokens": n,
    }
    relevance = np.ascontiguousarray(new.text_relevance[r0:], dtype=np.float16)
    return Append(meta, maps, scales, relevance)
