"""The static picture and text summary every view's display output carries beside the widget.

A notebook saved with its outputs keeps a view's ``image/png`` (the selected token's map over the
pictures, the strip's context, the colour legend and any provenance warning, drawn by
:func:`~tam_widgets.record.figure.figure`) and a ``text/plain`` summary (model, prompt, answer,
selected token), so GitHub, ``jupyter nbconvert --to html``, VS Code without a kernel or a shared
copy show the picture where the widget model is gone (as ipympl keeps its figures). The picture
follows the view's state at display time.

Turn it off for one view with ``TokenMapView(exp, snapshot=False)`` or for every view made after
``tam_widgets.widgets.snapshot.ENABLED = False``.
"""

from __future__ import annotations

import io

from ..record import Explanation
from ..record.display import escape_controls, method_label

#: Default of every view's ``snapshot`` switch (a view made with ``snapshot=...`` overrides it).
ENABLED = True
#: Resolution of the picture: a 448x448 photo gives a PNG of about 60 KB.
DPI = 110
#: The strip under the picture shows the words within this many tokens of the selected one.
CONTEXT = 40
#: Longest prompt / answer text the summary quotes before cutting it with "...".
MAX_TEXT = 300


def snapshot_png(exp: Explanation, selected: int, method: str, colormap: str = "jet", frame: int = 0,
                 only: list[int] | None = None) -> bytes:
    """PNG bytes of what a token map view shows: token ``selected``'s ``method`` map over every grid,
    the words within :data:`CONTEXT` tokens of it shaded by relevance, the colour legend and any warning.

    Video grids show ``frame`` (grids with fewer frames are left out and named in the title, as
    :meth:`Explanation.figure` does); pictures are drawn in a 256-colour palette to stay small.
    ``only``: the grids to draw (default all), e.g. those the token could see in a conversation.
    """
    from PIL import Image

    grids = [k for k, g in enumerate(exp.grids) if -len(g.frames) <= frame < len(g.frames)] or [0]
    if only is not None:
        grids = [k for k in grids if k in only] or grids[:1]
    one_frame = all(len(exp.grids[k].frames) == 1 for k in grids)
    fig = exp.figure(tokens=[selected], method=method, grid=grids, cmap=colormap,
                     frame=None if one_frame else frame, ncols=1, context=CONTEXT)
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=DPI)
    image = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    out = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, format="png", optimize=True)
    return out.getvalue()


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line (runs of whitespace as one space, control characters escaped), cut at ``limit``."""
    text = escape_controls(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def summary_text(exp: Explanation, token: int, method: str, pinned: bool = True) -> str:
    """The ``text/plain`` of a token map view: model, prompt, answer and the token whose map it shows.

    ``pinned=False``: no token is selected and ``token`` is the one the picture shows instead.

    >>> from tam_widgets.testing.records import small_record
    >>> print(summary_text(small_record(), 13, "tam").splitlines()[-1])
    selected: token 13 ' cat' (TAM map)
    """
    model = exp.metadata.get("model_id") or "unknown model"
    prompt = "".join(t.text for t in exp.tokens if t.role == "prompt")
    chosen = f"token {token} {exp.tokens[token].label!r} ({method_label(method)} map)"
    if not pinned:
        chosen = f"none (the picture shows {chosen})"
    return "\n".join([
        f"TokenMapView of {model}",
        f"prompt: {_cut(prompt)}",
        f"answer: {_cut(exp.answer)}",
        f"selected: {chosen}",
    ])
