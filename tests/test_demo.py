"""``make demo``: the offline site of every view (synthetic scene and each tiny family), its records, its pages
in chromium, and the paper-style figure it holds."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tam_widgets.cli import main
from tam_widgets.core import synthetic_example
from tam_widgets.demo import FAMILY_NAMES, SCENE_QUESTIONS, VIEWS, build_site, scene_record, scene_study
from tam_widgets.record import provenance
from tam_widgets.testing import FAMILIES
from tam_widgets.testing.browser import DEMO_SHOTS, artifacts_dir, demo_screenshots, open_offline

SYNTHETIC = provenance({"synthetic": True})
UNTRAINED = provenance({"untrained": True})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The whole site, every family (the folder holding index.html)."""
    out = tmp_path_factory.mktemp("demo")
    index = build_site(out)
    assert index == out / "index.html"
    return out


def _links(index: Path) -> list[str]:
    return re.findall(r'href="([^"]+)"', index.read_text())


# -- the site --------------------------------------------------------------------------------------------------------


def test_the_index_links_every_view_of_the_scene_and_of_every_family(site):
    links = _links(site / "index.html")
    for view in VIEWS:
        assert f"{view}.html" in links
    for family in FAMILIES:
        for view in ("explorer", "timeline", "board"):
            assert f"{view}-{family}.html" in links
    assert "compare-models.html" in links
    assert all((site / link).is_file() for link in links)
    text = (site / "index.html").read_text()
    for title, line in VIEWS.values():
        assert html.escape(title) in text and html.escape(line) in text
    assert text.count('src="data:image/png;base64,') == len(VIEWS)  # a thumbnail per view
    assert SYNTHETIC in text and UNTRAINED in text


def test_every_page_is_one_offline_file(site):
    for page in site.glob("*.html"):
        text = page.read_text()
        assert "default-src 'none'" in text, page.name
        assert not re.search(r'(src|href)="(https?:)?//', text), page.name


def test_the_figure_is_the_paper_style_figure(site):
    img = np.asarray(Image.open(site / "figure.png"))
    assert img.shape[0] > 300 and img.shape[1] > 1000
    assert img[..., :3].std() > 20  # a real picture, not a blank canvas


def test_cli_writes_the_site_and_prints_its_url(tmp_path, capsys):
    out = tmp_path / "sub" / "demo"
    assert main(["demo", "--out", str(out), "--families"]) == 0  # the synthetic scene only
    printed = capsys.readouterr().out
    assert f"open {(out / 'index.html').resolve().as_uri()}" in printed
    assert sorted(p.name for p in out.glob("*.html")) == ["board.html", "compare.html", "explorer.html",
                                                          "index.html", "timeline.html"]
    assert (out / "figure.png").is_file()


@pytest.mark.parametrize("out", ["tam_demo.png", "file"])
def test_cli_refuses_a_file_as_the_site_folder(tmp_path, capsys, out):
    (tmp_path / "file").write_text("keep me")
    assert main(["demo", "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out") and ("give a folder" in err or "is a file" in err)
    assert (tmp_path / "file").read_text() == "keep me"


def test_cli_refuses_an_unknown_family(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--families", "gpt5"]) == 2
    assert "unknown families ['gpt5']" in capsys.readouterr().err


def test_the_demo_needs_no_test_only_package(tmp_path):
    """After `pip install tam-widgets` (no test extras) the demo runs: here with the test extras made unimportable."""
    import subprocess
    import sys

    blocked = ["pytest", "skimage", "playwright", "jupyterlab", "nbformat", "hatchling", "ruff"]
    code = (f"import sys\nfor name in {blocked!r}: sys.modules[name] = None\n"
            "from tam_widgets.cli import main\n"
            f"sys.exit(main(['demo', '--out', {str(tmp_path / 'site')!r}, '--families', 'llava', 'internvl']))")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "explorer-internvl.html").is_file()


# -- the scene's records: TAM on the synthetic scene, whose truth is known -----------------------------------------


def _share_inside(exp, token_text: str, obj: str, method: str = "tam") -> float:
    """Share of the map of the (last) token ``token_text`` that falls on object ``obj`` of the scene."""
    rows = [r for r, i in enumerate(exp.explained) if exp.tokens[int(i)].text.strip() == token_text]
    m = exp.maps[method][rows[-1]].astype(np.float64).reshape(exp.grids[0].grid)
    mask = synthetic_example(grid=exp.grids[0].grid).object_masks[obj]
    return float(m[mask].sum() / m.sum())


def test_the_caption_record_has_every_method_and_its_maps_find_the_objects():
    exp = scene_record()
    assert exp.metadata["synthetic"] and exp.methods == ["tam", "cam", "eci_only", "filter_only"]
    assert exp.answer.strip() == "the picture shows a red circle and a blue square and a green triangle on the grass."
    masks = synthetic_example().object_masks
    for word in ("circle", "square", "triangle"):  # far more than the object's area, and than CAM's share
        tam, cam = _share_inside(exp, word, word), _share_inside(exp, word, word, "cam")
        assert tam > 5 * masks[word].mean() and tam > 1.8 * cam, word
    circle = [r for r, i in enumerate(exp.explained) if exp.tokens[int(i)].text == " circle"][0]
    assert exp.candidate_texts[circle][0] == "circle"  # the scene's "model" predicts its caption
    assert np.argmax(exp.text_relevance[-1]) < int(exp.explained[-1])  # relevance only over earlier tokens


def test_a_later_turn_sees_the_earlier_ones_and_maps_its_own_answer():
    exp = scene_record([("Describe the image.", ["the", "circle"]), ("What colour is the triangle?", ["green"])])
    assert [t.turn for t in exp.tokens if t.role == "answer"] == [0, 0, 1]
    assert exp.metadata["prompts"] == ["Describe the image.", "What colour is the triangle?"]
    green = exp.explained[-1]
    assert exp.tokens[int(green)].text == " green" and exp.tokens[int(green)].turn == 1
    mask = synthetic_example().object_masks
    m = exp.maps["tam"][-1].astype(np.float64).reshape(24, 32)
    assert m[mask["triangle"] | mask["grass"]].sum() / m.sum() > 0.5  # green: the triangle and the grass
    earlier = [exp.tokens[int(i)].text for i in np.flatnonzero(exp.text_relevance[-1] > 0)]
    assert " circle" in earlier  # turn 1's answer is context for turn 2


def test_the_scene_study_has_right_and_wrong_answers_and_the_wrong_colour_looks_at_the_square():
    study = scene_study()
    results = [study.result(c.id) for c in study.case_list]
    assert [r["correct"] for r in results] == [truth in answer for _, answer, truth in SCENE_QUESTIONS]
    assert 0 < sum(r["correct"] for r in results) < len(results)
    blue = study.case_list[2].explanation  # "blue" answered for the green triangle
    assert blue.answer.strip() == "blue" and _share_inside(blue, "blue", "square") > 0.5


# -- the pages in chromium -------------------------------------------------------------------------------------------


def test_every_page_loads_offline_without_errors_and_shows_its_label(site, browser):
    for path in sorted(site.glob("*.html")):
        page, problems = open_offline(browser, path.resolve().as_uri())
        try:
            if path.name != "index.html":
                page.locator(".tam-warning").first.wait_for(timeout=20_000)
            text = page.locator("body").inner_text()
        finally:
            page.close()
        assert problems == [], f"{path.name}: {problems}"
        if path.name == "index.html":
            continue
        label = UNTRAINED if "-" in path.stem else SYNTHETIC
        assert label in text, f"{path.name} does not say {label!r}"
        if label == UNTRAINED:
            family = path.stem.split("-", 1)[1]
            names = [FAMILY_NAMES[f] for f in FAMILIES] if family == "models" else [FAMILY_NAMES[family]]
            assert all(name in text for name in names), path.name


def test_the_index_opens_every_view_in_the_browser(site, browser):
    page, problems = open_offline(browser, (site / "index.html").resolve().as_uri())
    try:
        assert page.locator("section.view").count() == len(VIEWS)
        assert all(page.locator(f"section#{view} img").evaluate("i => i.naturalWidth > 100") for view in VIEWS)
        assert page.locator("figure img").evaluate("i => i.naturalWidth > 1000")  # figure.png beside it
        page.locator("section#board h2 a").click()
        page.locator("canvas.tam-heat").first.wait_for()
        assert page.url.endswith("/board.html")
    finally:
        page.close()
    assert problems == []


def test_screenshots_of_each_view(site, browser):
    shots = demo_screenshots(browser, site, artifacts_dir(site / "shots"))
    assert set(shots) == set(DEMO_SHOTS)
    for view, path in shots.items():
        img = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
        assert img.shape[0] > 300 and img.shape[1] > 800, view
        assert img.std() > 30, f"{view}: the screenshot is nearly blank"
