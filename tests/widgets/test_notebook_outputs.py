"""A notebook executed in a real kernel keeps every view's picture: its outputs and nbconvert's HTML show it.

The notebook explains an image with a tiny (untrained) LLaVA checkpoint, shows the explorer of that
record and the record itself (``exp`` as a cell's value), and a record whose two tokens are hot in
opposite corners. Its outputs are read like a notebook viewer without the widget would read them, and
converted by nbconvert, without widget state and with it.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from tam_widgets.record import Explanation, method_label
from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.widgets.snapshot import snapshot_png

from .test_snapshot import hot, own_heat, pixels, quadrant_record

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
# With widget state nbconvert renders the widget view (needing its JavaScript from a CDN) instead of the picture.
CLEAR_STATE = ["--ClearMetadataPreprocessor.enabled=True", "--ClearMetadataPreprocessor.clear_notebook_metadata=True"]
ROOT = Path(__file__).resolve().parents[2]

CELLS = [
    """\
import numpy as np
from skimage import data
import tam_widgets as tw
from tam_widgets.testing import tiny_model
exp = tw.load(tiny_model("llava"), max_new_tokens=3).explain(image=data.coffee(), prompt="What is it?")
exp.save("tiny.tam")
quad = tw.Explanation.load("quad.tam")""",
    'tw.TokenMapView(exp, selected=int(exp.explained[-1]), method="cam", colormap="viridis")',
    "exp",
    "display(quad)",
    "tw.TokenMapView(quad, selected=int(quad.explained[1]))",
]


def display_outputs(cell) -> list[dict]:
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def test_an_executed_notebook_keeps_every_views_picture(tmp_path, monkeypatch):
    quadrant_record(size=224).save(tmp_path / "quad.tam")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # The kernel imports this copy of tam_widgets and stays on one thread like the tests.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.metadata["widgets"][STATE_MIME]["state"]  # saved with widget state, as JupyterLab can

    outputs = [display_outputs(c) for c in nb.cells[1:]]
    assert [len(o) for o in outputs] == [1, 1, 1, 1], outputs
    data = [o[0]["data"] for o in outputs]
    for d in data:
        assert WIDGET_MIME in d and d["text/plain"].startswith("TokenMapView of ")
        assert "prompt: " in d["text/plain"] and "answer: " in d["text/plain"]
    pngs = [base64.b64decode(d["image/png"]) for d in data]
    for png in pngs:
        rgb = pixels(png)
        assert rgb.std() > 30 and len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50  # not blank

    # The tiny model's record: each picture is the map of the token its view selected, in its state.
    tiny = Explanation.load(tmp_path / "tiny.tam")
    last, first = int(tiny.explained[-1]), int(tiny.explained[0])
    assert f"selected: token {last} {tiny.tokens[last].label!r} ({method_label('cam')} map)" in data[0]["text/plain"]
    assert f"selected: token {first} {tiny.tokens[first].label!r} ({method_label('tam')} map)" in data[1]["text/plain"]
    expected = [snapshot_png(tiny, last, "cam", "viridis"), snapshot_png(tiny, first, "tam", "jet")]
    for got, want in zip(pngs[:2], expected):
        assert np.abs(pixels(got) - pixels(want)).max() <= 8
    assert pixels(pngs[0]).shape != pixels(pngs[1]).shape or np.abs(pixels(pngs[0]) - pixels(pngs[1])).mean() > 1
    assert hot(pixels(pngs[0])[: pixels(pngs[0]).shape[0] // 5]).sum() > 100  # the untrained-model warning

    # The corner record: the first answer token's heat top-left, the second's bottom-right.
    a, b = pixels(pngs[2]), pixels(pngs[3])
    ax, ay = own_heat(a, b)
    bx, by = own_heat(b, a)
    assert ax < 0.5 < bx and ay < by, (ax, ay, bx, by)

    # nbconvert shows a view's picture when the notebook holds no widget state (JupyterLab's default
    # save), and, with widget state, when told to drop the notebook's metadata.
    with_state = tmp_path / "with_state.ipynb"
    nbformat.write(nb, with_state)
    del nb.metadata["widgets"]
    nbformat.write(nb, tmp_path / "views.ipynb")
    for name, options in (("views", []), ("with_state", CLEAR_STATE)):
        subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", *options, str(tmp_path / f"{name}.ipynb")],
                       check=True, capture_output=True, timeout=120)
        html = (tmp_path / f"{name}.html").read_text()
        # nbconvert puts its alt text before src: <img alt="..." class="" src="data:image/png;base64,...">
        shown = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', html)
        assert sorted(base64.b64decode(s) for s in shown) == sorted(pngs), name
    (artifacts_dir(tmp_path) / "notebook_outputs.html").write_text(html)  # for a look in a browser
