"""The live chat timeline in a real JupyterLab: a question typed in the page is answered token by token,
an ask from Python updates the view, Stop works, and a click on a token of turn 2 changes the map."""

from __future__ import annotations

import nbformat
import numpy as np

from tam_widgets.testing.browser import artifacts_dir
from tam_widgets.testing.jupyter import JupyterLab

CELL = """import tam_widgets as tw
from tam_widgets.testing.fake_chat import FakeChat
chat = FakeChat(answer_tokens=12, token_delay=0.15)
chat.ask("Describe the image.")
tl = tw.ChatTimeline(chat)
tl"""
HEAT = """(grid) => { const c = document.querySelector(`.tam-timeline canvas.tam-heat[data-grid="${grid}"]`);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""
ANSWER_TOKENS = """(turn) => document.querySelectorAll(
  `.tam-timeline .tam-turn[data-turn="${turn}"] .tam-turn-answer .tam-tok.tam-explained`).length"""
#: What a researcher sees of the turns (every strip's tokens, classes and colours; every sparkline's values),
#: once the turns scrolled out of the list are recoloured; the hover bar (where the pointer went) aside.
TURNS = """async () => { await new Promise((r) => setTimeout(r, 400));
  const root = document.querySelector('.tam-timeline');
  return {turns: [...root.querySelectorAll('.tam-turn')].map((t) =>
            t.outerHTML.replace(/<div class="tam-hoverbox"[^>]*>/g, '')),
          builds: root.dataset.builds, appends: root.dataset.appends}; }"""


def test_ask_in_the_page_tokens_appear_and_turn_two_maps(browser, tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(CELL))
    nbformat.write(nb, root / "timeline.ipynb")
    shots = artifacts_dir(tmp_path)
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(90_000)
        try:
            lab.open_notebook(page, "timeline.ipynb")
            lab.run_all(page)
            view = page.locator(".tam-timeline").first
            view.wait_for(state="visible")
            assert view.locator(".tam-turn").count() == 1
            kernel = lab.kernel_client("timeline.ipynb")

            # type a question with a picture-less follow-up: the answer appears token by token
            box = view.locator("input.tam-ask-input")
            box.fill("Which dog is fatter?")
            box.press("Enter")
            view.locator('.tam-turn[data-turn="1"]').wait_for()
            counts = set()
            for _ in range(60):
                counts.add(page.evaluate(ANSWER_TOKENS, 1))
                if 12 in counts:
                    break
                if 5 in counts and not (shots / "jupyter_timeline_midstream.png").exists():
                    page.screenshot(path=str(shots / "jupyter_timeline_midstream.png"))
                page.wait_for_timeout(100)
            assert 12 in counts and len(counts - {0, 12}) >= 2, f"tokens did not appear one by one: {sorted(counts)}"
            assert kernel.wait_for("tl.busy", False) is False
            assert kernel.eval("max(t.turn for t in tl.explanation.tokens)") == 1
            page.screenshot(path=str(shots / "jupyter_timeline_asked.png"))
            # the turn came as pushes of what it added, and the page built from them equals the whole record
            # built at once (the offline page of the same conversation, at the same token)
            live = page.evaluate(TURNS)
            assert live["builds"] == "2" and int(live["appends"]) >= 2, live  # the first token built the turn
            static = tmp_path / "static.html"
            kernel.execute(f"tl.to_html({str(static)!r})")
            other = browser.new_page(viewport={"width": 1400, "height": 1000})
            other.goto(static.as_uri())
            other.locator(".tam-timeline .tam-turn").first.wait_for()
            whole = other.evaluate(TURNS)
            other.close()
            assert live["turns"] == whole["turns"]

            # click a token of turn 2: the map changes, and the click reaches the kernel
            view.locator('.tam-turn[data-turn="0"] .tam-turn-answer .tam-tok.tam-explained').nth(0).click()
            before = np.array(page.evaluate(HEAT, 0))
            target = view.locator('.tam-turn[data-turn="1"] .tam-turn-answer .tam-tok.tam-explained').nth(4)
            target.click()
            index = int(target.get_attribute("data-i"))
            assert kernel.wait_for("tl.selected", index) == index
            assert np.abs(np.array(page.evaluate(HEAT, 0)) - before).mean() > 1

            # an ask from Python updates the page live too, and Stop from the page ends it early
            kernel.execute("import threading; threading.Thread(target=chat.ask, args=('And the chair?',), "
                           "kwargs={'stream': True}).start()")
            view.locator('.tam-turn[data-turn="2"] .tam-turn-answer .tam-tok.tam-explained').first.wait_for()
            view.locator("button.tam-ask-stop").click()
            assert kernel.wait_for("tl.busy", False) is False
            n = kernel.eval("sum(t.role == 'answer' and t.turn == 2 for t in tl.explanation.tokens)")
            assert 0 < n < 12
            page.wait_for_function(f"() => ({ANSWER_TOKENS})(2) === {n}")
            page.screenshot(path=str(shots / "jupyter_timeline_stopped.png"))

            # a failed turn shows its error in the page and keeps the conversation
            kernel.execute("chat.fail(MemoryError('CUDA out of memory'), after=3)")
            box.fill("Another one?")
            box.press("Enter")
            view.locator(".tam-ask-status.tam-ask-error", has_text="CUDA out of memory").wait_for()
            assert box.input_value() == "Another one?"  # back in the box, to be sent again
            assert page.evaluate("document.querySelectorAll('.tam-timeline .tam-turn').length") == 3
            page.screenshot(path=str(shots / "jupyter_timeline_error.png"))

            # JupyterLab's dark theme: the turns follow it
            page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
            page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
            page.wait_for_timeout(500)
            bg = page.evaluate("getComputedStyle(document.querySelector('.tam-turn-answer')).backgroundColor")
            assert sum(int(x) for x in bg[bg.index("(") + 1 : bg.index(")")].split(",")[:3]) < 200, bg
            page.screenshot(path=str(shots / "jupyter_timeline_dark.png"))

            # the kernel restarts: the banner shows, the question box is disabled, the turns stay
            page.evaluate("window.jupyterapp.commands.execute('notebook:restart-kernel')")
            view.locator(".tam-disconnected-banner").wait_for(timeout=30_000)
            assert view.locator("input.tam-ask-input").is_disabled()
            assert view.locator(".tam-ask-status").inner_text().startswith("cannot ask: the kernel is gone")
            assert view.locator(".tam-turn").count() == 3
            page.screenshot(path=str(shots / "jupyter_timeline_restarted.png"))
        except Exception as e:
            page.screenshot(path=str(shots / "jupyter_timeline_failure.png"))
            raise AssertionError(f"{e}\n--- server log ---\n{lab.log()}") from e
