"""A notebook executed in a real kernel keeps the chat timeline's picture and summary (issue #16), and
nbconvert's HTML shows the picture."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from PIL import Image

from tam_widgets.testing.fake_chat import Turn, conversation_record
from tam_widgets.widgets.snapshot import snapshot_png
from tam_widgets.widgets.timeline import visible_grids

ROOT = Path(__file__).resolve().parents[2]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CELLS = [
    """\
import tam_widgets as tw
from tam_widgets.testing.fake_chat import FakeChat, Turn, conversation_record
exp = conversation_record([Turn("Describe the image.", 4, images=1), Turn("Which dog is fatter?", 3, images=1)])""",
    "tw.ChatTimeline(exp)",  # starts on the first answer token: turn 1, one picture
    "tw.ChatTimeline(exp, selected=int(exp.explained[5]), colormap='viridis')",  # a turn-2 token: both pictures
    """\
chat = FakeChat(answer_tokens=3)
chat.ask("Describe the image.")
tw.ChatTimeline(chat)""",
]


def rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_an_executed_notebook_keeps_the_timelines_picture_and_summary(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    data = [[o for o in c.outputs if o.output_type in ("display_data", "execute_result")][0]["data"]
            for c in nb.cells[1:]]
    for d in data:
        assert WIDGET_MIME in d and d["text/plain"].startswith("ChatTimeline of ")
    assert "2 turns" in data[0]["text/plain"] and "turn 2: user: Which dog is fatter?" in data[0]["text/plain"]
    assert "1 turn\n" in data[2]["text/plain"]

    # each picture is the selected token's map over the pictures that token could see
    exp = conversation_record([Turn("Describe the image.", 4, images=1), Turn("Which dog is fatter?", 3, images=1)])
    first, later = int(exp.explained[0]), int(exp.explained[5])
    shots = [rgb(base64.b64decode(d["image/png"])) for d in data]
    for shot in shots:
        assert shot.std() > 30 and len(np.unique(shot.reshape(-1, 3), axis=0)) > 50  # not blank
    want_first = rgb(snapshot_png(exp, first, "tam", "jet", only=visible_grids(exp, first)))
    want_later = rgb(snapshot_png(exp, later, "tam", "viridis", only=visible_grids(exp, later)))
    assert shots[0].shape == want_first.shape and np.abs(shots[0].astype(int) - want_first).mean() < 1
    assert shots[1].shape == want_later.shape and np.abs(shots[1].astype(int) - want_later).mean() < 1
    every = rgb(snapshot_png(exp, first, "tam", "jet"))  # the turn-1 token's picture leaves image 2 out
    assert every.shape != shots[0].shape or np.abs(every.astype(int) - shots[0]).mean() > 5
    assert f"selected: token {later} ' w1' of turn 2 (TAM map)" in data[1]["text/plain"]

    # nbconvert's HTML (no widget state) carries the pictures
    path = tmp_path / "timeline.ipynb"
    nbformat.write(nb, path)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path),
                    "--ClearMetadataPreprocessor.enabled=True",
                    "--ClearMetadataPreprocessor.clear_notebook_metadata=True"], check=True, capture_output=True)
    html = (tmp_path / "timeline.html").read_text()
    assert html.count("data:image/png;base64,") >= 3
