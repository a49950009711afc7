"""CompareView on the Python side: traits and their checks, the typed word, display output, the offline page."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import traitlets
from PIL import Image

import tam_widgets as tw
from tam_widgets.testing.comparisons import model_records
from tam_widgets.testing.records import synthetic_record
from tam_widgets.widgets import state
from tam_widgets.widgets.compare import compare_document

ANSWERS = [
    [" A", " black", " cat", " sits", " on", " the", " table", "."],
    [" a", " bl", "ack", " ca", "t", " on", " a", " table", "."],
    [" The", " cat", " is", " on", " the", " wooden", " table", "."],
]
LABELS = ["Qwen2-VL-2B", "InternVL3-1B", "LLaVA-1.5-7B"]


@pytest.fixture
def exps():
    return model_records(ANSWERS)


def test_view_starts_on_the_first_word_every_model_said(exps):
    v = tw.CompareView(exps, labels=LABELS)
    assert v.alignment.keys[v.word] == "cat" and v.method == "tam" and v.scale == "own" and v.query == ""
    assert v._view == "compare" and len(v._records) == 3 and [r["id"] for r in v._records] == ["r0", "r1", "r2"]
    assert v._compare["labels"] == LABELS and v._compare["alignment"]["keys"] == v.alignment.keys
    assert isinstance(v._records[0]["maps"]["tam"], memoryview)


def test_attributes_are_checked(exps):
    v = tw.CompareView(exps, labels=LABELS)
    with pytest.raises(traitlets.TraitError, match="out of range for 12 aligned words"):
        v.word = 12
    with pytest.raises(traitlets.TraitError, match="expected an int"):
        v.word = "cat"
    with pytest.raises(traitlets.TraitError, match="scale must be one of"):
        v.scale = "log"
    with pytest.raises(traitlets.TraitError, match="not in every compared explanation"):
        v.method = "gradcam"
    with pytest.raises(traitlets.TraitError, match="colormap must be one of"):
        v.colormap = "rainbow"
    v.word, v.scale, v.method = -1, "shared", "cam"
    assert (v.word, v.scale, v.method) == (-1, "shared", "cam")
    with pytest.raises(TypeError, match="unknown comparison attribute"):
        state.compare_page_state(v.comparison, selected=3)


def test_the_shown_video_frame_is_a_picture_index_shared_by_every_column():
    from tests.widgets.test_compare_browser import video_records

    v = tw.CompareView(video_records())
    assert v.frame == 0  # the video's first frame
    v.frame = 3
    assert v.get_state()["frame"] == 3
    with pytest.raises(traitlets.TraitError, match=r"not a picture of these records \(0..3\)"):
        v.frame = 4
    with pytest.raises(traitlets.TraitError, match="expected an int"):
        v.frame = 1.5
    assert tw.CompareView(video_records(), frame=2).frame == 2
    with pytest.raises(ValueError, match="not a picture"):
        tw.CompareView(video_records(), frame=-1)


def test_a_typed_word_selects_it_in_every_panel(exps):
    v = tw.CompareView(exps, labels=LABELS, query="Table")
    assert v.alignment.keys[v.word] == "table"
    assert v.find("BLACK") == v.word and v.alignment.keys[v.word] == "black" and v.query == "BLACK"
    assert v.alignment.tokens[v.word][2] is None  # LLaVA did not say it
    v.query = "wooden"  # as the page sends it
    assert v.alignment.keys[v.word] == "wooden"
    v.query = "zebra"  # nobody said it: the pinned word stays
    assert v.alignment.keys[v.word] == "wooden"
    with pytest.raises(ValueError, match=r"no model said 'zebra'; the answers' words are \["):
        v.find("zebra")


def test_summary_per_model(exps):
    v = tw.CompareView(exps, labels=LABELS, query="black")
    s = v.summary()
    assert [x["label"] for x in s] == LABELS
    assert s[2]["token"] is None and s[2]["otsu_share"] is None
    assert s[0]["otsu_share"] > 0 and s[1]["candidates"][0][0] == " bl"


def test_display_output_has_the_picture_and_the_text(exps):
    v = tw.CompareView(exps, labels=LABELS, query="black")
    data, _ = v._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    text = data["text/plain"]
    assert text.startswith("CompareView of 3 models: Qwen2-VL-2B, InternVL3-1B, LLaVA-1.5-7B")
    assert "word: 'black' (TAM map)" in text and "prompt: Describe the image." in text
    assert re.search(r"LLaVA-1.5-7B: The cat is on the wooden table\. \| .* above Otsu absent", text)
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")
    arr = np.asarray(png).astype(int)
    assert png.width > 2 * png.height * 0.9 and len(base64.b64decode(data["image/png"])) < 400_000
    # the two models that said "black" show a heat map (saturated colours); the absent one a grey panel
    thirds = np.array_split(arr, 3, axis=1)
    sat = [np.mean(t.max(-1) - t.min(-1) > 120) for t in thirds]
    assert sat[0] > 0.05 and sat[1] > 0.05 and sat[2] < 0.02, sat
    assert "image/png" not in tw.CompareView(exps, snapshot=False)._repr_mimebundle_()[0]


def test_page_document_and_offline_file(exps, tmp_path):
    evil = ["<script>alert(1)</script>", "B & C", "</script><b>x"]
    v = tw.CompareView(exps, labels=evil, scale="shared", query="cat")
    path = v.to_html(tmp_path / "cmp.html")
    html = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "</script><b>" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    title = "Comparison: &lt;script&gt;alert(1)&lt;/script&gt;, B &amp; C, &lt;/script&gt;&lt;b&gt;x"
    assert f"<title>{title}</title>" in html
    doc = json.loads(re.search(r'<script type="application/json" id="tam-doc-\w+">(.*?)</script>', html, re.S)
                     .group(1))
    assert doc["view"] == "compare" and [r["id"] for r in doc["records"]] == ["r0", "r1", "r2"]
    st = doc["state"]
    assert st["scale"] == "shared" and st["_compare"]["labels"] == evil and st["word"] == v.word
    assert set(st) == {*state.COMPARE_ATTRS, "_compare"}
    assert all(r["buffers"]["maps"]["tam"] for r in doc["records"])  # every map inline: no kernel
    assert v.to_html().startswith("<!DOCTYPE html>")


def test_compare_document_checks_its_state(exps):
    cmp = tw.CompareView(exps).comparison
    with pytest.raises(ValueError, match="opacity must be in"):
        compare_document(cmp, {"opacity": 2})


def test_refusals_reach_the_view():
    with pytest.raises(ValueError, match="show different pictures"):
        tw.CompareView([synthetic_record(), synthetic_record(seed=4)])
    a, b = model_records([[" a"], [" b"]])
    with pytest.raises(ValueError, match="labels must be 2 non-empty strings"):
        tw.CompareView([a, b], labels=["x", ""])


def test_one_region_for_every_model(exps):
    from tam_widgets.widgets.view import region_shares

    v = tw.CompareView(exps, labels=LABELS)
    assert v.region == [] and v.region_shares() == []
    v.region = [0, 100, 80, 10, 5]  # corners in any order
    assert v.region == [0, 100.0, 80.0, 10.0, 5.0]
    shares = v.region_shares()
    assert len(shares) == 3
    for rid, s in zip(v.payloads, shares):
        exp = v.explanations[rid]
        want = region_shares(v.payloads[rid], "tam", 0, 0, [100, 80, 10, 5])
        assert list(s) == [int(i) for i in exp.explained] and np.allclose(list(s.values()), want)
    for bad, message in (([1, 0, 0, 5, 5], "names picture 1; the records have 1 picture"),
                         ([0, 0, 0, 0, 5], "empty box"), ([0, 500, 500, 600, 600], "outside its picture of 128x96"),
                         ([0.5, 0, 0, 5, 5], "not a fraction"), ([0, 0, 0, 5], "region is \\[\\] or"),
                         ([0, float("nan"), 0, 5, 5], "NaN")):
        with pytest.raises(traitlets.TraitError, match=message):
            v.region = bad
    v.region = []
    assert v.region_shares() == []


def test_an_executed_notebook_keeps_the_comparisons_picture(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).resolve().parents[2]
    cell = ("import tam_widgets as tw\nfrom tam_widgets.testing.comparisons import model_records\n"
            f"exps = model_records({ANSWERS!r})\n"
            f"tw.CompareView(exps, labels={LABELS!r}, query='black')")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    [out] = [o for o in nb.cells[0].outputs if o.output_type in ("display_data", "execute_result")]
    data = out["data"]
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("CompareView of 3 models") and "word: 'black'" in data["text/plain"]
    arr = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")).astype(int)
    sat = [np.mean(t.max(-1) - t.min(-1) > 120) for t in np.array_split(arr, 3, axis=1)]
    assert sat[0] > 0.05 and sat[1] > 0.05 and sat[2] < 0.02, sat  # LLaVA did not say "black": grey panel
    path = tmp_path / "cmp.ipynb"
    nbformat.write(nb, path)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path),
                    "--ClearMetadataPreprocessor.enabled=True",
                    "--ClearMetadataPreprocessor.clear_notebook_metadata=True"], check=True, capture_output=True)
    html = (tmp_path / "cmp.html").read_text(encoding="utf-8")
    assert data["image/png"][:200] in html.replace("\n", "")
