"""``make demo`` / ``tam-widgets demo``: a small offline site that shows every view.

:func:`build_site` writes ``index.html`` (each view with a one-line description and a thumbnail) and
one offline page per view and source: the built-in synthetic scene (:func:`tam_widgets.core.synthetic_example`:
known objects, so the maps mean something) and a tiny random checkpoint of each real model family
(:mod:`tam_widgets.testing.tiny`: the maps mean nothing, but the whole pipeline runs), plus
``figure.png``, the paper-style figure of TAM against CAM on the scene. Every page says where its
record comes from in its banner. No download, no GPU; it takes a few seconds.

    tam-widgets demo --out demo        # prints file:///.../demo/index.html
"""

from __future__ import annotations

import base64
import html
import re
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .core import synthetic_example
from .core.synthetic import ANSWER, IM_START, NEWLINE, SPECIALS
from .record import Explanation, Token, VisualGrid, legend_text, provenance
from .render import colormap, overlay

WORDS = ("circle", "square", "triangle", "grass")

#: The views of the site: file stem -> (title, one line on what it shows).
VIEWS = {
    "explorer": ("Token map explorer", "every answer token's map over the picture; hover, pin, switch methods, "
                 "drag a box to ask which words came from there"),
    "compare": ("Model comparison", "several models' answers to one question side by side, words aligned, "
                "one map per model for the chosen word"),
    "timeline": ("Chat timeline", "a multi-turn conversation top to bottom; click any token for its map over "
                 "the pictures it could see"),
    "board": ("Failure-case board", "a study's cases with filters and their ground truth; open one to see "
              "why the answer went wrong"),
}
#: Display names of the tiny families (:data:`tam_widgets.testing.FAMILIES`).
FAMILY_NAMES = {"qwen2_vl": "Qwen2-VL", "qwen2_5_vl": "Qwen2.5-VL", "qwen3_vl": "Qwen3-VL",
                "llava": "LLaVA-1.5", "internvl": "InternVL"}
SCENE = "synthetic scene"
#: The scene's questions for the board and the timeline: (question, answer, ground truth).
SCENE_QUESTIONS = (
    ("What colour is the circle?", ["red"], "red"),
    ("Which shape is blue?", ["square"], "square"),
    ("What colour is the triangle?", ["blue"], "green"),
    ("What shape is red?", ["circle"], "circle"),
    ("Where is the triangle?", ["grass"], "grass"),
    ("What is on the grass?", ["square"], "triangle"),
)
CAPTION = "Describe the image."


def _words(text: str) -> list[str]:
    """A question as the synthetic vocabulary's words: ``"Which shape is blue?"`` -> which, shape, is, blue, ?."""
    return re.findall(r"[a-z]+|[?.]", text.lower())


# ---------------------------------------------------------------------------------------------------------------------
# The synthetic scene as records
# ---------------------------------------------------------------------------------------------------------------------


def scene_record(turns: Sequence[tuple[str, Sequence[str]]] | None = None, grid: tuple[int, int] = (24, 32),
                 picture: np.ndarray | None = None) -> Explanation:
    """The synthetic scene as a record, one turn per ``(question, answer words)`` (default: the caption).

    TAM and its ablations are computed by :func:`tam_widgets.core.tam_from_hidden` on the scene's hidden
    states; later turns see the earlier ones as context. ``picture`` replaces the stored picture (the grid then
    covers it whole), so two grids of one scene can be compared. The record is marked ``synthetic``.

    >>> exp = scene_record([("What colour is the triangle?", ["green"])], grid=(6, 8))
    >>> exp.answer, exp.metadata["synthetic"], exp.maps["tam"].shape
    (' green', True, (1, 48))
    """
    from .core import tam_from_hidden
    from .methods.common import normalize_rows
    from .words import group_words

    turns = list(turns or [(CAPTION, ANSWER)])
    exs = [synthetic_example(grid=grid, prompt=_words(q), answer=list(a)) for q, a in turns]
    first = exs[0]
    ids, hidden = list(first.input_ids), [first.hidden]
    spans = [(first.prompt_positions, first.answer_start, len(ids))]
    for ex in exs[1:]:  # a follow-up turn: the example's text after its picture, appended to the conversation
        vis_end = int(ex.visual_positions[-1]) + 1
        head = int(np.flatnonzero(ex.input_ids == IM_START)[1])  # the system turn, which the conversation has
        user = [head, head + 1]  # <|im_start|> user; its newline is followed by the prompt
        text = list(range(vis_end + 1, len(ex.input_ids)))
        offset = len(ids) + 3 - (vis_end + 1)  # ex's prompt and answer move here
        hidden.append(ex.hidden[[head - 1, *user, vis_end, *text[:-1]]])
        ids += [int(ex.input_ids[p]) for p in user] + [NEWLINE] + [int(ex.input_ids[p]) for p in text]
        spans.append((ex.prompt_positions + offset, ex.answer_start + offset, len(ids)))
    ids_arr = np.asarray(ids, np.int64)
    hid = np.concatenate([h.numpy() for h in hidden])
    import torch

    hid_t = torch.from_numpy(hid)
    picture = first.image if picture is None else picture
    h_px, w_px = picture.shape[:2]
    vis = first.visual_positions
    is_vis = np.zeros(len(ids), bool)
    is_vis[vis] = True
    text_pos = np.flatnonzero(~is_vis)
    index = {int(p): k for k, p in enumerate(text_pos)}
    roles = np.full(len(ids), "special", object)
    turn_of = np.zeros(len(ids), np.int64)
    for t, (prompt_pos, start, end) in enumerate(spans):
        roles[prompt_pos] = "prompt"
        roles[start:end] = ["special" if int(ids[p]) in SPECIALS else "answer" for p in range(start, end)]
        turn_of[(spans[t - 1][2] if t else 0):end] = t
    tokens = []
    for p in text_pos:
        word = first.vocab[int(ids[p])]
        text = word if roles[p] == "special" or word in (".", "?") else " " + word
        tokens.append(Token(text, int(ids[p]), str(roles[p]), int(turn_of[p]), int(p)))

    explained, rows, rel_rows, cand = [], {m: [] for m in ("tam", "cam", "eci_only", "filter_only")}, [], []
    weight = first.lm_head_weight
    for t, (_, start, end) in enumerate(spans):
        context = np.concatenate([spans[k][0] for k in range(t + 1)]
                                 + [np.flatnonzero(roles[spans[k][1]:spans[k][2]] == "answer") + spans[k][1]
                                    for k in range(t)])
        kw = dict(visual_positions=vis, prompt_positions=np.sort(context), answer_start=start, grid=first.grid)
        args = (hid_t[: end - 1], weight, ids_arr[:end])
        full = tam_from_hidden(*args, **kw)
        variants = {"tam": full.flat_maps, "cam": normalize_rows(full.flat_raw_maps),
                    "eci_only": tam_from_hidden(*args, **kw, filter=None).flat_maps,
                    "filter_only": tam_from_hidden(*args, **kw, eci=None).flat_maps}
        for r, p in enumerate(full.token_positions):
            if roles[p] != "answer":
                continue
            explained.append(index[int(p)])
            for m, v in variants.items():
                rows[m].append(v[r])
            rel = np.zeros(len(tokens), np.float32)
            for c, q in enumerate(full.context_positions):
                if int(q) < int(p) and int(q) in index:
                    rel[index[int(q)]] = full.text_relevance[r, c]
            rel_rows.append(rel)
            logits = (hid_t[p - 1] @ weight.T).double()
            probs = torch.softmax(logits, -1)
            top = torch.topk(probs, 3)
            cand.append((top.indices.numpy(), top.values.numpy()))
    grid_obj = VisualGrid("image", "image 1", 0, first.grid, [0], np.array([[0, 0, w_px, h_px]], np.float32))
    questions = [q for q, _ in turns]
    return Explanation(
        tokens=tokens,
        explained=np.asarray(explained, np.int64),
        maps={m: np.stack(v).astype(np.float16) for m, v in rows.items()},
        text_relevance=np.stack(rel_rows).astype(np.float16),
        grids=[grid_obj],
        images=[picture],
        candidate_ids=np.stack([c[0] for c in cand]),
        candidate_probs=np.stack([c[1] for c in cand]).astype(np.float32),
        candidate_texts=[[first.vocab[int(i)] for i in c[0]] for c in cand],
        words=group_words(tokens),
        metadata={"model_id": SCENE, "synthetic": True, "prompts": questions,
                  "grid": f"{first.grid[0]}x{first.grid[1]} tokens"},
    )


def scene_study():
    """A failure-case :class:`~tam_widgets.studies.Study` of :data:`SCENE_QUESTIONS` on the scene, records in memory."""
    from .studies import Case, Study

    picture = synthetic_example(grid=(24, 32), prompt=_words(CAPTION), answer=["red"]).image
    cases = []
    for k, (question, answer, truth) in enumerate(SCENE_QUESTIONS):
        exp = scene_record([(question, answer)])
        exp.metadata["study_case"] = {"id": f"scene-{k + 1}", "prompt": question, "generation": {}}
        cases.append(Case(id=f"scene-{k + 1}", question=question, image=picture, answers=[truth] * 10,
                          question_type=" ".join(_words(question)[:2]), explanation=exp))
    return Study(cases, wordnet=False)  # no NLTK data needed (nor downloaded)


# ---------------------------------------------------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------------------------------------------------


def _scene_pages(out: Path) -> dict[str, tuple[Path, Explanation, int]]:
    """The four views of the scene: view -> (page, the record its thumbnail shows, the token to show)."""
    from .widgets.board import FailureCaseBoard
    from .widgets.compare import CompareView
    from .widgets.timeline import to_html as timeline_html

    caption = scene_record()
    circle = next(int(i) for i in caption.explained if caption.tokens[int(i)].text == " circle")
    pages = {"explorer": (caption.to_html(out / "explorer.html", selected=circle,
                                          title="Token map explorer: synthetic scene"), caption, circle)}
    coarse = scene_record(grid=(12, 16), picture=caption.images[0])
    view = CompareView([caption, coarse], labels=["24x32 visual tokens", "12x16 visual tokens"], query="circle",
                       snapshot=False)
    pages["compare"] = (view.to_html(out / "compare.html", title="Model comparison: synthetic scene"), coarse,
                        next(int(i) for i in coarse.explained if coarse.tokens[int(i)].text == " circle"))
    chat = scene_record([(CAPTION, ANSWER), ("What colour is the triangle?", ["green"]),
                         ("Which shape is blue?", ["the", "square"])])
    last = int(chat.explained[-1])
    pages["timeline"] = (timeline_html(chat, out / "timeline.html", selected=last,
                                       title="Chat timeline: synthetic scene"), chat, last)
    study = scene_study()
    board = FailureCaseBoard(study, snapshot=False)
    board.case = study.case_list[2].id  # the page opens on a failure: "blue" for the green triangle
    wrong = study.case_list[2].explanation
    pages["board"] = (board.to_html(out / "board.html", title="Failure-case board: synthetic scene"), wrong,
                      int(wrong.explained[0]))
    return pages


def _model_pages(out: Path, families: Sequence[str], say: Callable[[str], None]) -> dict[str, list[tuple[str, Path]]]:
    """The views on a tiny random checkpoint of each family: view -> [(label, page)]."""
    from .explain import load
    from .samples import sample_image
    from .studies import Study
    from .testing import tiny_model
    from .widgets.board import FailureCaseBoard
    from .widgets.compare import CompareView
    from .widgets.timeline import to_html as timeline_html

    cat, cup, astronaut = sample_image("chelsea"), sample_image("coffee"), sample_image("astronaut")
    cases = [dict(id="cat", question="What animal is this?", image=cat, answers=["cat"] * 10),
             dict(id="coffee", question="What drink is this?", image=cup, answers=["coffee"] * 8 + ["espresso"] * 2),
             dict(id="astronaut", question="What is she wearing?", image=astronaut,
                  answers=["space suit"] * 6 + ["spacesuit"] * 4)]
    pages: dict[str, list[tuple[str, Path]]] = {v: [] for v in VIEWS}
    answers = []
    for family in families:
        name = FAMILY_NAMES.get(family, family)
        say(f"{name}: a tiny random checkpoint of the real transformers classes")
        explainer = load(tiny_model(family), device="cpu", dtype="float32")
        explainer.model_id = f"untrained tiny {name}"
        exp = explainer.explain(image=cat, prompt="Describe this image.", max_new_tokens=12)
        answers.append((name, exp))
        pages["explorer"].append((name, exp.to_html(out / f"explorer-{family}.html",
                                                    title=f"Token map explorer: untrained tiny {name}")))
        chat = explainer.chat(image=cat)
        chat.ask("What is in this image?", max_new_tokens=8)
        chat.ask("And in this one?", images=[cup], max_new_tokens=8)
        pages["timeline"].append((name, timeline_html(chat.explanation, out / f"timeline-{family}.html",
                                                      title=f"Chat timeline: untrained tiny {name}")))
        study = Study(cases, explainer, generation={"max_new_tokens": 8}, wordnet=False)
        for c in study.case_list:
            study.explanation(c.id)
        board = FailureCaseBoard(study, snapshot=False)
        board.case = study.case_list[0].id
        pages["board"].append((name, board.to_html(out / f"board-{family}.html",
                                                   title=f"Failure-case board: untrained tiny {name}")))
    if len(answers) >= 2:
        view = CompareView([e for _, e in answers], labels=[n for n, _ in answers], snapshot=False)
        names = ", ".join(n for n, _ in answers)
        pages["compare"].append(("all families", view.to_html(out / "compare-models.html",
                                                              title=f"Model comparison: untrained tiny {names}")))
    return pages


def _thumbnail(exp: Explanation, token: int) -> str:
    """A ``data:`` URL of a small PNG of ``token``'s TAM map (the view's static snapshot)."""
    import io

    from PIL import Image

    from .widgets.snapshot import snapshot_png

    image = Image.open(io.BytesIO(snapshot_png(exp, token, "tam")))
    image.thumbnail((360, 360))
    buf = io.BytesIO()
    image.save(buf, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


INDEX_CSS = """
body{margin:24px auto;max-width:1040px;padding:0 16px;font-family:system-ui,sans-serif;line-height:1.45;
color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:0 0 .2em} h2{font-size:1.15em;margin:0 0 .3em}
.note{color:#555;margin:.2em 0 1.2em}
.warn{display:inline-block;padding:1px 6px;border-radius:4px;background:#fdecea;color:#8a1020;font-size:.9em}
.view{display:grid;grid-template-columns:220px 1fr;gap:18px;align-items:start;padding:16px 0;
border-top:1px solid #ddd}
.view img{width:220px;border:1px solid #ccc;border-radius:4px;display:block}
.view p{margin:.2em 0 .5em} .links a{margin-right:.8em;white-space:nowrap}
figure{margin:16px 0 0;padding-top:16px;border-top:1px solid #ddd} figure img{max-width:100%}
@media (prefers-color-scheme: dark){body{color:#e6e6e6;background:#1e1e1e}.note{color:#aaa}
a{color:#8ab4f8}.warn{background:#4a1c22;color:#ffb4bd}.view,figure{border-color:#444}}
"""


def _index(out: Path, scene: dict, models: dict, seconds: float) -> Path:
    """Write ``index.html``: each view with its description, a thumbnail and links to its pages."""
    from .io import atomic_write
    from .widgets.html import content_security_policy

    e = html.escape
    parts = [
        "<h1>tam-widgets demo</h1>",
        '<p class="note">Token Activation Maps (TAM, Li et al., ICCV 2025) explain each word a vision-language '
        "model writes with a map over the picture. Every page here is one offline file: no network, no kernel. "
        f"Built by <code>tam-widgets demo</code> in {seconds:.1f} s.</p>",
        f'<p class="note"><b>{e(SCENE)}</b>: <span class="warn">{e(provenance({"synthetic": True}))}</span>: '
        "a red circle, a blue square and a green triangle on grass, with known answers, so the maps are "
        "meaningful.<br><b>untrained tiny models</b>: "
        f'<span class="warn">{e(provenance({"untrained": True}))}</span>: the real transformers classes of each '
        "family, randomly initialised.</p>",
    ]
    for view, (title, line) in VIEWS.items():
        page, exp, token = scene[view]
        links = [f'<a href="{e(page.name)}">{e(SCENE)}</a>']
        links += [f'<a href="{e(p.name)}">untrained tiny {e(label)}</a>' for label, p in models.get(view, [])]
        parts.append(
            f'<section class="view" id="{view}"><a href="{e(page.name)}"><img alt="{e(title)}: thumbnail" '
            f'src="{_thumbnail(exp, token)}"></a><div><h2><a href="{e(page.name)}">{e(title)}</a></h2>'
            f'<p>{e(line)}.</p><div class="links">{" ".join(links)}</div></div></section>'
        )
    parts.append('<figure><img alt="TAM against CAM on the synthetic scene" src="figure.png">'
                 "<figcaption>figure.png: the paper-style figure, TAM (top) against the CAM baseline (bottom) "
                 "on the synthetic scene.</figcaption></figure>")
    body = "\n".join(parts)
    csp = content_security_policy([], [INDEX_CSS]).replace("img-src data: blob:", "img-src data: 'self'")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="color-scheme" content="light dark">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f"<title>tam-widgets demo</title><style>{INDEX_CSS}</style></head><body>\n{body}\n</body></html>\n")
    return atomic_write(out / "index.html", lambda f: f.write(page.encode("utf-8")))


def build_site(out: str | Path = "demo", families: Sequence[str] | None = None,
               say: Callable[[str], None] = lambda _: None) -> Path:
    """Write the demo site into the folder ``out`` (created) and return its ``index.html``.

    ``families``: the tiny model families to run (default all of :data:`tam_widgets.testing.FAMILIES`;
    ``[]`` for the synthetic scene only). ``say`` gets a line per stage.

        index = build_site("demo")     # then open index.as_uri() in a browser
    """
    from .testing import FAMILIES

    t0 = time.perf_counter()
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file; the demo writes a folder of pages (e.g. --out demo)")
    out.mkdir(parents=True, exist_ok=True)
    families = list(FAMILIES if families is None else families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown families {unknown}; choose from {list(FAMILIES)}")
    say("synthetic scene: TAM on the built-in scene, every view")
    scene = _scene_pages(out)
    demo_figure().savefig(out / "figure.png", dpi=100)
    models = _model_pages(out, families, say)
    return _index(out, scene, models, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------------------------------
# The paper-style figure
# ---------------------------------------------------------------------------------------------------------------------


def demo_figure(cmap: str = "jet"):
    """The demo's matplotlib ``Figure`` (not registered with pyplot): TAM (top) and CAM (bottom) per word.

    TAM maps are shown as computed (one scale with the text: 1 = the token's strongest evidence over
    image and text), CAM maps min-max scaled per word as stored in records; the colour bar and its
    note say so, and the header says that the scene is synthetic and no model is involved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    from .record.figure import new_figure

    ex = synthetic_example(n_answer=len(ANSWER) + 1)
    result = ex.tam()
    texts = [ex.token_text(p) for p in result.token_positions]
    h, w = ex.image.shape[:2]
    n_cols = len(WORDS) + 1
    panel_w, gap, margin, title_h = 3.2, 0.2, 0.2, 0.42
    img_h = panel_w * h / w
    header = [
        ("Token Activation Maps (top) against CAM (bottom) on a synthetic scene", 13, "bold", "black"),
        (
            "each column: the map of one caption word; TAM's ECI removes what earlier words leak in "
            "(CAM of 'circle' also lights up the square)",
            9.5,
            "normal",
            "0.25",
        ),
        (f"⚠ {provenance({'synthetic': True})}", 10.5, "bold", "#b00020"),
    ]
    header_h = 0.2 + sum(size / 72 * 1.45 for _, size, _, _ in header) + 0.1
    notes = [
        "top row, " + legend_text("tam") + "; shown as computed",
        "bottom row, " + legend_text("cam"),
    ]
    footer_h = 0.75 + 0.17 * len(notes)
    fig_w = 2 * margin + n_cols * panel_w + (n_cols - 1) * gap
    fig_h = header_h + 2 * (title_h + img_h) + footer_h
    fig = new_figure(figsize=(fig_w, fig_h), dpi=100)
    FigureCanvasAgg(fig)
    text_kw = dict(usetex=False, parse_math=False)

    y = 0.2
    for text, size, weight, color in header:
        fig.text(
            0.5, 1 - y / fig_h, text, ha="center", va="top", fontsize=size, fontweight=weight, color=color, **text_kw
        )
        y += size / 72 * 1.45

    def panel(row: int, col: int):
        left = (margin + col * (panel_w + gap)) / fig_w
        bottom = 1 - (header_h + (row + 1) * (title_h + img_h)) / fig_h
        ax = fig.add_axes((left, bottom, panel_w / fig_w, img_h / fig_h))
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    ax = panel(0, 0)
    ax.imshow(ex.image)
    ax.set_title("input image (synthetic)", fontsize=10, **text_kw)
    ax = panel(1, 0)
    ax.axis("off")
    caption = " ".join(t for t in texts if not t.startswith("<"))
    ax.text(0, 0.5, "caption:\n" + textwrap.fill(caption, 34), fontsize=10, va="center", **text_kw)
    for col, word in enumerate(WORDS, start=1):
        i = texts.index(word)
        tam = np.clip(result.maps[i], 0, 1)  # as computed: one scale with the text
        raw = result.raw_maps[i]
        cam = (raw - raw.min()) / max(float(raw.max() - raw.min()), 1e-12)  # min-max, as records store CAM
        ax = panel(0, col)
        ax.imshow(overlay(ex.image, tam, cmap=cmap))
        ax.set_title(f"TAM: {word!r} (peak {float(tam.max()):.2f})", fontsize=10, **text_kw)
        ax = panel(1, col)
        ax.imshow(overlay(ex.image, cam, cmap=cmap))
        ax.set_title(f"CAM baseline: {word!r} (peak 1 by scaling)", fontsize=10, **text_kw)

    bar_w = 4.0
    bar = fig.add_axes(((fig_w - bar_w) / 2 / fig_w, (footer_h - 0.38) / fig_h, bar_w / fig_w, 0.16 / fig_h))
    scale = fig.colorbar(ScalarMappable(Normalize(0, 1), colormap(cmap)), cax=bar, orientation="horizontal")
    scale.set_ticks([0, 0.25, 0.5, 0.75, 1])
    scale.ax.tick_params(labelsize=8, length=2, pad=1)
    for k, note in enumerate(notes):
        y = (footer_h - 0.62 - 0.17 * k) / fig_h
        fig.text(0.5, y, note, ha="center", va="top", fontsize=8.5, color="0.15", **text_kw)
    return fig


def object_focus(result, ex, word: str) -> tuple[float, float]:
    """Share of the map's mass inside ``word``'s object for TAM and for CAM (higher is better)."""
    texts = [ex.token_text(p) for p in result.token_positions]
    i, mask = texts.index(word), ex.object_masks[word]
    tam, cam = result.maps[i].astype(np.float64), result.raw_maps[i].astype(np.float64)
    return float(tam[mask].sum() / max(tam.sum(), 1e-12)), float(cam[mask].sum() / max(cam.sum(), 1e-12))
