"""The failure-case board's offline study page in real headless chromium: the list, filters, search, sorting,
opening cases (an image's token map, a video's frame strip, a case without a record), keys, read-only
annotations, the Content-Security-Policy, light and dark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.records import synthetic_record
from tam_widgets.widgets.board import FailureCaseBoard

from .board_study import make_study
from .test_browser_html import CSP_WATCH, assert_shows


def write_video(path, frames: int = 30):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 5 * i, np.uint8))
    writer.release()


@pytest.fixture
def study_page(browser, tmp_path):
    study = make_study(tmp_path, n=40)
    write_video(tmp_path / "clip.mp4")
    from tam_widgets.studies import Case, Study

    video = Case(id="v1", question="Which object was opened by the person?", video=str(tmp_path / "clip.mp4"),
                 start=0.5, end=2.5, choices=["The box.", "The laptop."], answer="The laptop.",
                 question_type="Interaction")
    study = Study([*study.case_list, video], store=study.store.path)
    exp = synthetic_record([" The", " box"], frames=4, seed=3)
    exp.metadata["study_case"] = {"id": "v1", "prompt": video.prompt, "generation": {}}
    exp.save(study.record_path("v1"))
    study.case_list[7].question = "</script><script>alert('q7')</script>"
    study.case_list[2].answers = ["dog"] * 10  # " dog" is a candidate of its answer: a suggested reason
    board = FailureCaseBoard(study)
    board.annotate("q1", reason="missed object", note="<b>only the sofa</b>", flag=True)
    board.annotate("q2", reason="other")
    path = board.to_html(tmp_path / "study.html")
    pages = []

    def _open(scheme="light"):
        page = browser.new_page(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
        errors, dialogs, requests = [], [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: errors.append(m.text)
                if m.type == "error" and "Content Security Policy" not in m.text else None)
        page.on("request", lambda r: requests.append(r.url))
        page.add_init_script(CSP_WATCH)
        page.goto(path.as_uri())
        page.wait_for_selector(".tam-case")
        pages.append((page, errors, dialogs, requests))
        return page

    yield _open, board, study
    for page, errors, dialogs, requests in pages:
        assert page.evaluate("window.__csp") == [], "the page needed something its CSP blocks"
        assert not errors, f"page errors: {errors}"
        assert not dialogs, f"a text ran as script: {dialogs}"
        assert all(u.startswith(("file:", "blob:", "data:")) for u in requests), requests
        page.close()


def ids(page) -> list[str]:
    return page.eval_on_selector_all(".tam-case", "els => els.map(e => e.dataset.case)")


def test_the_offline_study_page(study_page, tmp_path):
    from playwright.sync_api import expect

    open_page, board, study = study_page
    page = open_page()
    shots = artifacts_dir(tmp_path)
    assert page.locator(".tam-f-count").inner_text() == "41 cases"
    assert ids(page)[:3] == ["q0", "q1", "q2"] and len(ids(page)) < 30  # a virtual list
    row = page.locator('.tam-case[data-case="q1"]')
    assert "failed" in row.inner_text() and "missed object" in row.inner_text() and "flagged" in row.inner_text()
    assert page.locator('.tam-case[data-case="q0"] img').count() == 1  # thumbnails from the page
    assert page.locator('.tam-case[data-case="q3"] .tam-thumb-error').count() == 1  # unreadable picture

    # Filters, search and sorting.
    page.select_option("select.tam-f-correct", "failed")
    assert ids(page) == ["q1", "q2", "v1"]  # v1 answers "The box", not "The laptop."
    page.select_option("select.tam-f-correct", "all")
    page.select_option("select.tam-f-reason", "(no reason)")
    assert "q1" not in ids(page) and "q0" in ids(page)
    page.select_option("select.tam-f-reason", "")
    page.select_option("select.tam-f-flag", "flagged")
    assert ids(page) == ["q1"]
    page.select_option("select.tam-f-flag", "all")
    page.fill("input.tam-f-text", "laptop")
    expect(page.locator(".tam-case")).to_have_count(1)
    assert ids(page) == ["v1"]
    page.fill("input.tam-f-text", "")
    expect(page.locator('.tam-case[data-case="q0"]')).to_have_count(1)
    page.select_option("select.tam-f-sort", "score")
    assert ids(page)[:2] == ["q1", "q2"]
    page.select_option("select.tam-f-sort", "order")
    times = page.evaluate("window.__tamPerf.filter")
    assert len(times) > 5 and max(times[1:]) < 100, times  # each filter / sort (the first is the page's first list)

    # Open a case: its token map next to the ground truth and the annotation (read-only here).
    page.locator('.tam-case[data-case="q1"]').click()
    exp1 = study.explanation("q1")
    assert_shows(page, exp1, 0)
    assert page.locator(".tam-ci-question").inner_text() == "What is the man holding?"
    assert "umbrella ×7" in page.locator(".tam-ci-truth").inner_text()
    assert page.locator(".tam-ann-note").input_value() == "<b>only the sofa</b>"
    assert page.locator(".tam-ann-chosen").inner_text().endswith("missed object")
    assert "read-only page" in page.locator(".tam-ann-off").inner_text()
    assert page.locator(".tam-ann-reason").first.is_disabled()
    page.screenshot(path=str(shots / "board_offline_light.png"), full_page=True)

    # Keys: j / k move through the list; the next case has its own record.
    page.locator(".tam-board").focus()
    page.keyboard.press("j")
    assert page.locator(".tam-case-current").get_attribute("data-case") == "q2"
    assert_shows(page, study.explanation("q2"), 0)
    # its suggested reason, with the evidence, beside (not as) its annotation "other"
    suggestion = page.locator(".tam-suggestion").first  # one per answer token with the candidate
    assert "suggested: answer shifted by context" in suggestion.inner_text()
    assert "dog" in suggestion.locator(".tam-suggestion-evidence").inner_text()
    assert page.locator(".tam-ann-chosen").inner_text().endswith("other")
    page.keyboard.press("j")  # q3: no record, and its picture is unreadable
    assert page.locator(".tam-ci-note").inner_text().startswith("no record of this case in this page")
    assert page.locator(".tam-ci-img").count() == 0 and page.locator(".tam-board-map .tam-tok").count() == 0
    page.keyboard.press("ArrowDown")  # q4: no record, its picture
    assert page.locator(".tam-ci-img").count() == 1 and page.locator(".tam-board-map .tam-tok").count() == 0
    page.keyboard.press("k")
    page.keyboard.press("ArrowUp")
    assert page.locator(".tam-case-current").get_attribute("data-case") == "q2"

    # The hostile question shows as text.
    page.locator('.tam-case[data-case="q7"]').click()
    assert page.locator(".tam-ci-question").inner_text() == "</script><script>alert('q7')</script>"

    # A video case: the frame strip and the choices with the right one marked.
    page.fill("input.tam-f-text", "opened")
    expect(page.locator(".tam-case")).to_have_count(1)
    page.locator('.tam-case[data-case="v1"]').click()
    assert page.locator(".tam-frames .tam-thumb").count() == 4
    assert page.locator(".tam-ci-right").inner_text() == "The laptop."
    page.locator('.tam-frames .tam-thumb[data-frame="2"]').click()
    assert_shows(page, study.explanation("v1"), 0, frame=2)


def test_the_study_page_in_dark(study_page, tmp_path):
    open_page, _, _ = study_page
    page = open_page("dark")
    page.locator('.tam-case[data-case="q1"]').click()
    page.wait_for_selector("canvas.tam-heat")
    bg = page.evaluate("getComputedStyle(document.querySelector('.tam-board')).backgroundColor")
    fg = page.evaluate("getComputedStyle(document.querySelector('.tam-case-q')).color")
    lum = [sum(int(v) for v in c[c.index("(") + 1 : c.index(")")].split(",")[:3]) / 3 for c in (bg, fg)]
    assert lum[0] < 80 and lum[1] > 180, (bg, fg)
    page.screenshot(path=str(artifacts_dir(tmp_path) / "board_offline_dark.png"), full_page=True)
