"""Records of every model family (tiny random checkpoints) open in the page with the right geometry."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skimage_data

import tam_widgets as tw
from tam_widgets.record import provenance
from tam_widgets.testing import tiny_model
from tam_widgets.testing.browser import artifacts_dir

ALPHA = """([grid, frame]) => {
  const c = document.querySelector(`canvas.tam-heat[data-grid="${grid}"][data-frame="${frame}"]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const a = new Uint8Array(c.width * c.height);
  for (let i = 0; i < a.length; i++) a[i] = d[4 * i + 3];
  return {w: c.width, h: c.height, a: Array.from(a)};
}"""


def explain(family: str):
    explainer = tw.load(tiny_model(family), max_new_tokens=3)
    if family == "qwen2_vl":  # a video: two temporal slots of a four-frame clip, and a picture
        frames = [np.roll(skimage_data.astronaut(), 20 * k, axis=1) for k in range(4)]
        return explainer.explain(video=frames, prompt="What happens?")
    if family == "internvl":  # tiles stitched into one grid, plus the thumbnail's own grid
        return explainer.explain(images=[skimage_data.chelsea(), skimage_data.coffee()], prompt="Compare.")
    return explainer.explain(image=skimage_data.coffee(), prompt="What is it?")  # llava: a centre crop


@pytest.mark.parametrize("family", ["llava", "internvl", "qwen2_vl"])
def test_family_records_open_with_their_geometry(browser, tmp_path, family):
    exp = explain(family)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(exp.to_html(tmp_path / f"{family}.html").as_uri())
    page.wait_for_function("window.__tamPerf && window.__tamPerf.firstRender > 0", timeout=20_000)
    assert page.locator(".tam-panel").count() == len(exp.grids)
    warning = provenance(exp.metadata)  # the record's own word on what it is: shown when it has one
    assert page.locator(".tam-warning").count() == (warning is not None)
    if warning:
        assert warning in page.locator(".tam-warning").inner_text()
    for gi, g in enumerate(exp.grids):
        got = page.evaluate(ALPHA, [gi, 0])
        h, w = exp.images[g.frames[0]].shape[:2]
        assert (got["w"], got["h"]) == (w, h)  # drawn at the stored picture's resolution
        alpha = np.array(got["a"]).reshape(h, w)
        x0, y0, x1, y1 = (int(round(float(v))) for v in g.boxes[0])
        inside = np.zeros((h, w), bool)
        inside[max(y0, 0) : y1, max(x0, 0) : x1] = True
        # Heat exactly over the grid's box (a LLaVA crop leaves the picture's sides bare).
        assert (alpha[inside] == 255).all() and (alpha[~inside] == 0).all(), (family, g.label)
    if any(g.kind == "video" for g in exp.grids):
        assert page.locator(".tam-frames .tam-thumb").count() == 2
    page.screenshot(path=str(artifacts_dir(tmp_path) / f"family_{family}.png"))
    assert not errors
    page.close()
