"""``CompareView``: several models' explanations of the same pictures and question, side by side, word by word.

    view = tw.CompareView([exp_a, exp_b, exp_c], labels=["Qwen2-VL-2B", "InternVL3-1B", "LLaVA-1.5-7B"])
    view                       # one column per model (rows when narrow): question, answer strip, maps, summary
    view.find("dog")           # every model's map for the word "dog" (absent where a model did not say it)
    view.to_html("cmp.html")   # the same comparison as one offline file

Words are aligned across tokenizers in Python (:func:`tam_widgets.compare.align_answers`); hovering or pinning
a word in one column selects the same word in every column.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import traitlets

from ..compare import Comparison, comparison, model_summary
from ..record import Explanation
from ..record.display import method_label
from . import state
from .base import RecordsWidget, bundle, record_id
from .html import PAGE_FORMAT, PAGE_VERSION, record_document, write_page
from .payload import MAX_INLINE_BYTES, check_showable
from .snapshot import _cut, snapshot_png
from .view import region_shares

__all__ = ["CompareView", "compare_document"]

VIEW = "compare"


def compare_document(cmp: Comparison, state_: dict[str, Any] | None = None, *, image_format: str = "auto") -> dict:
    """The page document of a comparison: the page document of ``js/README.md`` with view ``"compare"``, every
    record inline, ``state`` checked (:func:`~tam_widgets.widgets.state.compare_page_state`) and ``_compare``
    (labels, aligned words, summaries) in it."""
    return {
        "format": PAGE_FORMAT,
        "version": PAGE_VERSION,
        "view": VIEW,
        "records": [record_document(record_id(k), e, image_format=image_format)
                    for k, e in enumerate(cmp.explanations)],
        "state": {**state.compare_page_state(cmp, **(state_ or {})), "_compare": cmp.to_json()},
    }


class CompareView(RecordsWidget):
    """Explanations of the same pictures and prompt by several models, one column each, words aligned.

    Args:
        explanations: 2 to 8 records of the same pictures and prompt (others are refused, naming what differs).
        labels: one name per record (default: the model ids' last parts).
        allow_different_prompts: compare different questions about the same pictures on purpose.
        word: index of the aligned word to pin first (default: the first word every model said);
            ``query``: a word to look up instead (``"dog"``).
        method, colormap, opacity: as in :class:`~tam_widgets.TokenMapView`, applied to every panel.
        scale: ``"own"`` (each map stretched over its own range) or ``"shared"`` (one range for all panels).
        region: ``[picture, x0, y0, x1, y1]``, one box on a picture (stored pixels) applied to every model: each
            strip colours its words by the share of their map inside it (:meth:`region_shares`).
        frame: the video frame to show first, as a picture index (every column shows its own video step that
            holds it; a frame picked or played in one column follows in all).
        image_format, max_inline_bytes, snapshot: as in :class:`~tam_widgets.TokenMapView`.

    Synced attributes (:data:`tam_widgets.widgets.state.COMPARE_ATTRS`): ``word``, ``query``, ``method``,
    ``colormap``, ``opacity``, ``scale``, ``region``, ``frame`` (the video frame every column shows, as a
    picture index: a frame picked or played in one column shows in all). ``comparison`` holds the records, labels and
    :class:`~tam_widgets.compare.Alignment`.

    >>> from tam_widgets.testing.comparisons import model_records  # hand-made records of three "models"
    >>> records = model_records([[" A", " black", " cat"], [" a", " bl", "ack", " cat"], [" the", " cat"]])
    >>> view = CompareView(records, labels=["Qwen", "InternVL", "LLaVA"], query="cat")
    >>> view.comparison.labels
    ['Qwen', 'InternVL', 'LLaVA']
    """

    VIEW = VIEW

    word = state.trait("word", state.COMPARE_ATTRS)
    query = state.trait("query", state.COMPARE_ATTRS)
    method = state.trait("method", state.COMPARE_ATTRS)
    colormap = state.trait("colormap", state.COMPARE_ATTRS)
    opacity = state.trait("opacity", state.COMPARE_ATTRS)
    scale = state.trait("scale", state.COMPARE_ATTRS)
    region = state.trait("region", state.COMPARE_ATTRS)
    frame = state.trait("frame", state.COMPARE_ATTRS)
    _compare = traitlets.Dict({}).tag(sync=True)

    def _shown(self) -> Comparison | None:
        return getattr(self, "comparison", None)

    _check_word = state.validator("word", _shown, state.COMPARE_ATTRS)
    _check_query = state.validator("query", _shown, state.COMPARE_ATTRS)
    _check_method = state.validator("method", _shown, state.COMPARE_ATTRS)
    _check_colormap = state.validator("colormap", _shown, state.COMPARE_ATTRS)
    _check_opacity = state.validator("opacity", _shown, state.COMPARE_ATTRS)
    _check_scale = state.validator("scale", _shown, state.COMPARE_ATTRS)
    _check_region = state.validator("region", _shown, state.COMPARE_ATTRS)
    _check_frame = state.validator("frame", _shown, state.COMPARE_ATTRS)

    def __init__(
        self,
        explanations: Sequence[Explanation],
        labels: Sequence[str] | None = None,
        *,
        allow_different_prompts: bool = False,
        word: int | None = None,
        query: str | None = None,
        method: str | None = None,
        colormap: str = state.COMPARE_ATTRS["colormap"].default,
        opacity: float = state.COMPARE_ATTRS["opacity"].default,
        scale: str = state.COMPARE_ATTRS["scale"].default,
        region: list | None = None,
        frame: int | None = None,
        image_format: str = "auto",
        max_inline_bytes: int = MAX_INLINE_BYTES,
        snapshot: bool | None = None,
        **kwargs: Any,
    ) -> None:
        cmp = comparison(explanations, labels, allow_different_prompts=allow_different_prompts)
        for exp in cmp.explanations:
            check_showable(exp, "CompareView")
        start = state.compare_page_state(cmp, word=word, query=query, method=method, colormap=colormap,
                                         opacity=opacity, scale=scale, region=region, frame=frame)
        super().__init__(cmp.explanations, image_format=image_format, max_inline_bytes=max_inline_bytes,
                         snapshot=snapshot, **kwargs)
        self.comparison = cmp
        self._compare = cmp.to_json()
        for name, value in start.items():
            setattr(self, name, value)
        self.observe(self._on_query, "query")

    def _on_query(self, change: dict) -> None:
        """A typed word (from Python or the page) pins that aligned word when some model said it."""
        found = self.comparison.alignment.find(change["new"]) if change["new"] else -1
        if found >= 0 and found != self.word:
            self.word = found

    # -- Python-side conveniences -------------------------------------------------------------
    @property
    def alignment(self):
        """The aligned words (:class:`~tam_widgets.compare.Alignment`)."""
        return self.comparison.alignment

    def find(self, word: str) -> int:
        """Pin the aligned word whose text is ``word`` (normalised: case, spaces and punctuation ignored) in every
        panel; returns its index. Raises ``ValueError`` listing the words when no model said it."""
        found = self.alignment.find(word)
        if found < 0:
            words = sorted(set(self.alignment.keys))
            raise ValueError(f"no model said {word!r}; the answers' words are {words[:40]}"
                             f"{' ...' if len(words) > 40 else ''}")
        self.query = str(word)
        self.word = found
        return found

    def summary(self, word: int | None = None) -> list[dict[str, Any]]:
        """Each model's summary line for aligned word ``word`` (default: the pinned one) in the shown method
        (:func:`tam_widgets.compare.model_summary`), with its ``label``."""
        w = self.word if word is None else int(word)
        return [{"label": label, **model_summary(exp, self.alignment, m, w, self.method)}
                for m, (label, exp) in enumerate(zip(self.comparison.labels, self.comparison.explanations))]

    def region_shares(self) -> list[dict[int, float]]:
        """For the current ``region``, per model, each explained token's share of its map inside the box (the
        numbers each strip is coloured with; the box counts on every grid laid over its picture). Empty without a
        region."""
        if not self.region:
            return []
        pic, *box = self.region
        out = []
        for rid, exp in self.explanations.items():
            frames = [(g, f) for g, grid in enumerate(exp.grids) for f, p in enumerate(grid.frames) if p == pic]
            if not frames:
                out.append({})
                continue
            shares = region_shares(self.payloads[rid], self.method, *frames[0], box)
            out.append({int(i): float(s) for i, s in zip(exp.explained, shares)})
        return out

    # -- outputs -------------------------------------------------------------------------------
    def _summary(self) -> str:
        """Models, prompt, the pinned word and each model's summary line."""
        cmp = self.comparison
        w = self.word
        lines = [
            f"CompareView of {len(cmp.labels)} models: {', '.join(cmp.labels)}",
            f"prompt: {_cut(self._compare['prompts'][0])}",
            f"word: {cmp.alignment.texts[w].strip()!r} ({method_label(self.method)} map)" if w >= 0 else "word: none",
        ]
        for s in self.summary():
            peak = f"{s['mean_peak']:.3g}" if s["mean_peak"] is not None else "n/a"
            share = f"{s['otsu_share']:.0%}" if s["otsu_share"] is not None else "absent"
            cands = ", ".join(f"{t.strip() or repr(t)} {p:.0%}" for t, p in s["candidates"]) or "-"
            lines.append(f"{s['label']}: {_cut(s['answer'], 120)} | mean peak over object words {peak} | "
                         f"above Otsu {share} | top-3 {cands}")
        return "\n".join(lines)

    def _picture(self) -> bytes:
        """Each model's map of the pinned word side by side (a grey panel where the model did not say it)."""
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.load_default(size=18)
        cmp = self.comparison
        tiles = []
        for m, exp in enumerate(cmp.explanations):
            tok = cmp.alignment.tokens[self.word][m] if self.word >= 0 else None
            if tok is not None:
                tile = Image.open(io.BytesIO(snapshot_png(exp, tok, self.method, self.colormap))).convert("RGB")
            else:
                tile = Image.new("RGB", (480, 360), (236, 236, 236))
                word = cmp.alignment.texts[self.word].strip() if self.word >= 0 else ""
                ImageDraw.Draw(tile).text((20, 170), f"{word!r} absent: not in this answer"[:60], fill=(90, 90, 90),
                                          font=font)
            head = Image.new("RGB", (tile.width, 28), (255, 255, 255))
            ImageDraw.Draw(head).text((8, 4), cmp.labels[m][:60], fill=(0, 0, 0), font=font)
            col = Image.new("RGB", (tile.width, tile.height + 28), (255, 255, 255))
            col.paste(head, (0, 0))
            col.paste(tile, (0, 28))
            tiles.append(col)
        width, height = sum(t.width for t in tiles), max(t.height for t in tiles)
        out = Image.new("RGB", (width, height), (255, 255, 255))
        x = 0
        for t in tiles:
            out.paste(t, (x, 0))
            x += t.width
        scale = min(1.0, 1600 / width)
        if scale < 1:
            out = out.resize((int(width * scale), int(height * scale)), Image.Resampling.LANCZOS)
        raw = io.BytesIO()
        out.quantize(256, method=Image.Quantize.FASTOCTREE).save(raw, format="png", optimize=True)
        return raw.getvalue()

    def to_html(self, path: str | os.PathLike | None = None, *, title: str | None = None,
                image_format: str = "auto"):
        """Write this comparison, in its current state, as one self-contained offline HTML file (or return the
        HTML text when ``path`` is None); :func:`~tam_widgets.widgets.html.write_page` of :func:`compare_document`.

            view.to_html("comparison.html")
        """
        for name in ("widget.css", "standalone.js"):
            bundle(name)
        st = {k: getattr(self, k) for k in state.COMPARE_ATTRS}
        doc = compare_document(self.comparison, st, image_format=image_format)
        cmp = self.comparison
        heading = title if title is not None else f"Comparison: {', '.join(cmp.labels)}"
        return write_page(doc, path, title=heading)
