"""The README's Python snippets run as written (so the README cannot drift from the code).

Every ```python block runs top to bottom in one namespace, in a temporary folder that holds the
pictures and the video the snippets name. Hub ids become tiny offline checkpoints of the same
family (the only substitution), and the "bring your own logits" block gets its inputs from the
package's synthetic scene.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
#: Hub ids the README uses -> the tiny family that stands in for them here.
MODELS = {
    "Qwen/Qwen2-VL-2B-Instruct": "qwen2_vl",
    "OpenGVLab/InternVL3-1B-hf": "internvl",
    "llava-hf/llava-1.5-7b-hf": "llava",
}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _write_inputs(folder: Path) -> None:
    import cv2
    from PIL import Image

    from tam_widgets.samples import sample_image

    for name, photo in (("street.jpg", "astronaut"), ("a.jpg", "chelsea"), ("b.jpg", "coffee")):
        Image.fromarray(sample_image(photo)).save(folder / name)
    _write_okvqa(folder)
    frames = [np.roll(sample_image("coffee"), 20 * k, axis=1) for k in range(4)]
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 2.0, (w, h))
    assert writer.isOpened(), "OpenCV cannot write mp4 here"
    for f in frames:
        writer.write(np.ascontiguousarray(f[..., ::-1]))
    writer.release()


def _write_okvqa(folder: Path) -> None:
    """OK-VQA's official files for two questions: one the model cannot get right, one it might."""
    import json

    from PIL import Image

    from tam_widgets.samples import sample_image

    (folder / "val2014").mkdir()
    for image_id, photo in ((1, "chelsea"), (2, "coffee")):
        Image.fromarray(sample_image(photo)).save(folder / "val2014" / f"COCO_val2014_{image_id:012d}.jpg")
    questions = [{"image_id": 1, "question": "What animal is this?", "question_id": 10},
                 {"image_id": 2, "question": "What drink is this?", "question_id": 20}]
    answers = {10: ["cat"] * 10, 20: ["coffee"] * 7 + ["espresso"] * 3}
    annotations = [
        {"image_id": q["image_id"], "question_id": q["question_id"], "question_type": "other", "answer_type": "other",
         "answers": [{"answer_id": k + 1, "answer": a, "raw_answer": a, "answer_confidence": "yes"}
                     for k, a in enumerate(answers[q["question_id"]])]}
        for q in questions
    ]
    (folder / "OpenEnded_mscoco_val2014_questions.json").write_text(json.dumps({"questions": questions}))
    (folder / "mscoco_val2014_annotations.json").write_text(json.dumps({"annotations": annotations}))


def _logits_inputs() -> dict:
    """The names the "bring your own logits" block expects, from the synthetic scene."""
    from tam_widgets.core import synthetic_example

    ex = synthetic_example(grid=(24, 32))
    return {
        "logits": ex.logits,
        "input_ids": ex.input_ids,
        "vis_pos": ex.visual_positions,
        "prompt_pos": ex.prompt_positions,
        "n_input": ex.answer_start,
    }


def test_readme_has_python_snippets():
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 3
    assert all(model in README.read_text() for model in MODELS)


def test_readme_python_snippets_run(tmp_path, monkeypatch):
    from tam_widgets.testing import tiny_model

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    _write_inputs(tmp_path)
    namespace: dict = _logits_inputs()
    for k, src in enumerate(python_blocks(README.read_text())):
        for hub_id, family in MODELS.items():
            src = src.replace(f'"{hub_id}"', repr(str(tiny_model(family))))
        try:
            exec(compile(src, f"README.md python block {k + 1}", "exec"), namespace)
        except Exception as e:  # name the block, so the README line to fix is obvious
            pytest.fail(f"README.md python block {k + 1} fails: {type(e).__name__}: {e}\n{src}")
    assert (tmp_path / "street.tam").exists() and (tmp_path / "street.html").exists()
    assert (tmp_path / "failures.png").exists() and (tmp_path / "annotations.csv").exists()
    assert len(list((tmp_path / "study" / "records").glob("*.tam"))) == 2
    assert namespace["result"].maps.shape[1:] == (24, 32)


def readme_commands(text: str) -> list[list[str]]:
    """Every `tam-widgets ...` command line of the README (code blocks and inline), optional parts dropped."""
    import shlex

    lines = re.findall(r"^tam-widgets [^\n`#]+", text, flags=re.M) + re.findall(r"`(tam-widgets [^`]+)`", text)
    return [shlex.split(re.sub(r"\[[^\]]*\]", "", line))[1:] for line in lines]


def test_readme_commands_parse(tmp_path, monkeypatch, capsys):
    """The README's command lines use options the CLI has: each gets past argparse to the input checks (the demo
    needs no input: it is stopped by an unknown family, and runs once, on the synthetic scene only)."""
    from tam_widgets.cli import main

    monkeypatch.chdir(tmp_path)
    commands = readme_commands(README.read_text())
    assert {c[0] for c in commands} >= {"demo", "explain", "evaluate", "html", "timeline", "compare", "board",
                                        "compare-runs"}
    for argv in commands:
        if argv[0] == "demo":
            assert main([*argv, "--families", "none-such"]) == 2, argv
            assert "unknown families ['none-such']" in capsys.readouterr().err
            continue
        try:
            code = main(argv)
        except SystemExit as e:  # argparse: --help (0), or an unknown or missing option (2)
            out = capsys.readouterr()
            assert e.code == 0 and "--help" in argv and "usage:" in out.out, (
                f"README command `tam-widgets {' '.join(argv)}` does not parse: {out.err}"
            )
            continue
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error:"), (argv, err)  # stopped by an input check, before any model
    assert main(["demo", "--out", "site", "--families"]) == 0  # the README's first command
    assert f"open {(tmp_path / 'site' / 'index.html').as_uri()}" in capsys.readouterr().out
