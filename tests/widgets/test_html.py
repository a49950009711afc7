"""The self-contained HTML export, checked without a browser (the browser tests drive it)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import numpy as np
import pytest

from tam_widgets.testing.records import small_record
from tam_widgets.widgets.payload import build_payload


def embedded_doc(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="(tam-doc-[0-9a-f]+)">(.*?)</script>', page, re.S)
    assert m, "no embedded document"
    return json.loads(m.group(2))


def test_export_is_self_contained_and_escaped(tmp_path):
    exp = small_record()
    out = exp.to_html(tmp_path / "cat.html")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # The token text is data, never markup: no live <script>alert, no external resources.
    assert "<script>alert(1)" not in page and "alert(1)\\u003c/script\\u003e" in page
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", page)
    assert "<title>synthetic/record: A cat &lt;script&gt;alert(1)&lt;/script&gt; here</title>" in page
    # Exactly three classic scripts: the JSON, the bundle, the mount call; the bundle holds no </script.
    assert page.count("</script>") == 3
    doc = embedded_doc(page)
    assert doc["state"] | {"region": None} == {
        "selected": 12, "method": "tam", "colormap": "jet", "opacity": 0.55, "show_specials": False,
        "frame": 0, "region": None,
    }
    assert doc["records"][0]["meta"]["tokens"][14][0] == " <script>alert(1)</script>"
    p = build_payload(exp)
    buffers = doc["records"][0]["buffers"]
    for name in exp.methods:
        np.testing.assert_array_equal(np.frombuffer(base64.b64decode(buffers["maps"][name]), np.uint8),
                                      p.maps[name].reshape(-1))
    assert base64.b64decode(doc["records"][0]["buffers"]["images"][0]) == p.images[0]
    assert not doc["records"][0]["meta"]["on_demand"]  # a page has no kernel to ask


def test_export_options_and_text(tmp_path):
    exp = small_record()
    page = exp.to_html(method="cam", colormap="viridis", selected=exp.tokens[14], opacity=0.2, title="a & b")
    doc = embedded_doc(page)
    assert doc["state"]["method"] == "cam" and doc["state"]["colormap"] == "viridis"
    assert doc["state"]["selected"] == 14 and doc["state"]["opacity"] == 0.2
    assert "<title>a &amp; b</title>" in page
    with pytest.raises(ValueError, match="method 'gradcam' is not in"):
        exp.to_html(method="gradcam")
    with pytest.raises(ValueError, match="colormap must be one of"):
        exp.to_html(colormap="hot")
    with pytest.raises(ValueError, match="was not explained"):
        exp.to_html(selected=2)


def test_failed_export_leaves_nothing(tmp_path):
    exp = small_record()
    target = tmp_path / "keep.html"
    target.write_text("earlier export")
    with pytest.raises(ValueError):
        exp.to_html(target, opacity=3)
    assert target.read_text() == "earlier export"
    with pytest.raises(FileNotFoundError):
        exp.to_html(tmp_path / "missing-dir" / "x.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.html"]


def test_export_has_a_strict_content_security_policy():
    page = small_record().to_html()
    head = page[: page.index("<style>")]
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
    assert m, "no CSP meta before the first inline style"
    policy = dict(d.strip().split(" ", 1) for d in m.group(1).split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data: blob:"
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'none'"
    assert "unsafe" not in m.group(1) and "http" not in m.group(1) and "*" not in m.group(1)

    def digest(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    # Exactly the page's own inline scripts (not the JSON data block) and styles are allowed.
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 2 and len(styles) == 2
    assert sorted(policy["script-src"].split()) == sorted(digest(s) for s in scripts)
    assert sorted(policy["style-src"].split()) == sorted(digest(s) for s in styles)
